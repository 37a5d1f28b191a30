import { describe, expect, it } from 'vitest';
import { hostHeaderName } from '../../src/core/host-name.js';
import {
  checkCredentials,
  hostAllowed,
  isLoopbackAddress,
  isLoopbackHost,
  parseBasicAuth,
  safeEqual,
  sameOriginAllowed,
} from '../../src/dashboard/security.js';
import { assertDashboardExposure } from '../../src/dashboard/server.js';
import { ConfigError } from '../../src/core/config.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('basic auth', () => {
  it('parses and checks credentials', () => {
    expect(parseBasicAuth(basic('admin', 'pa:ss'))).toEqual({ user: 'admin', password: 'pa:ss' });
    expect(parseBasicAuth('Bearer x')).toBeNull();
    expect(parseBasicAuth(undefined)).toBeNull();
    const expected = { user: 'admin', password: 's3cret-pw' };
    expect(checkCredentials(basic('admin', 's3cret-pw'), expected)).toBe(true);
    expect(checkCredentials(basic('admin', 's3cret-pW'), expected)).toBe(false);
    expect(checkCredentials(basic('root', 's3cret-pw'), expected)).toBe(false);
    expect(checkCredentials(undefined, expected)).toBe(false);
    expect(checkCredentials(basic('', ''), { user: '', password: '' })).toBe(true);
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
  });
});

describe('loopback', () => {
  it('knows loopback hosts and socket addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '10.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopbackAddress(undefined)).toBe(false);
  });

  it('refuses a non-loopback DASHBOARD_HOST without a password, naming DASHBOARD_PASSWORD', () => {
    const dash = (host: string, password: string | null) => ({
      dashboard: { host, port: 0, user: 'admin', password, allowedHosts: [], imageRatePerMinute: 600 },
    });
    expect(() => assertDashboardExposure(dash('0.0.0.0', null))).toThrow(ConfigError);
    expect(() => assertDashboardExposure(dash('0.0.0.0', null))).toThrow(/DASHBOARD_PASSWORD/);
    expect(() => assertDashboardExposure(dash('0.0.0.0', 'pw'))).not.toThrow();
    expect(() => assertDashboardExposure(dash('127.0.0.1', null))).not.toThrow();
  });
});

describe('cross-site check', () => {
  const host = 'dash.local:3000';
  it('allows the custom header, same-origin fetch metadata and a same-host Origin', () => {
    expect(sameOriginAllowed({ xRequestedWith: 'stash2plex', secFetchSite: 'cross-site', host }).ok).toBe(true);
    expect(sameOriginAllowed({ secFetchSite: 'same-origin', host }).ok).toBe(true);
    expect(sameOriginAllowed({ origin: 'http://dash.local:3000', host }).ok).toBe(true);
  });
  it('refuses cross-site, same-site and header-less requests', () => {
    expect(sameOriginAllowed({ secFetchSite: 'cross-site', origin: 'http://dash.local:3000', host }).ok).toBe(false);
    expect(sameOriginAllowed({ secFetchSite: 'same-site', host }).ok).toBe(false);
    expect(sameOriginAllowed({ origin: 'http://evil.example', host }).ok).toBe(false);
    expect(sameOriginAllowed({ origin: 'null', host }).ok).toBe(false);
    expect(sameOriginAllowed({ host }).ok).toBe(false);
    expect(sameOriginAllowed({ xRequestedWith: 'XMLHttpRequest', host }).ok).toBe(false);
  });
});

describe('Host check (DNS rebinding)', () => {
  it('reads the name of a Host header, without port, lowercased', () => {
    expect(hostHeaderName('LocalHost:3093')).toBe('localhost');
    expect(hostHeaderName('[::1]:3093')).toBe('::1');
    expect(hostHeaderName('[::1]')).toBe('::1');
    expect(hostHeaderName('dash.example.')).toBe('dash.example');
    for (const bad of [undefined, '', 'a b', 'user@host', 'host:port', '[zz]']) expect(hostHeaderName(bad)).toBeNull();
  });
  it('accepts loopback names with or without a port, and listed names; refuses any other', () => {
    for (const h of ['localhost', 'localhost:3093', '127.0.0.1', '127.0.0.1:3093', '[::1]', '[::1]:3093'])
      expect(hostAllowed(h, []), h).toBe(true);
    for (const h of ['a.example:3093', 'a.example', '192.168.1.5:3000', undefined, '']) expect(hostAllowed(h, []), String(h)).toBe(false);
    expect(hostAllowed('dash.example:443', ['dash.example'])).toBe(true);
    expect(hostAllowed('a.example', ['dash.example'])).toBe(false);
  });
});
