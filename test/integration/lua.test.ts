// The script loader (src/core/lua.ts): a script read from its .lua file, registered on a connection on
// first use (EVALSHA), still runs after Redis forgot it (SCRIPT FLUSH, a restart, a failover).
import { afterAll, describe, expect, it } from 'vitest';
import { luaScript, runLua } from '../../src/core/lua.js';
import { testRedis, uniquePrefix } from '../helpers/redis.js';

const redis = testRedis();
afterAll(() => redis.disconnect());

describe('runLua', () => {
  const release = luaScript('resilience/lua/leaseRelease-1.lua');
  const fenced = luaScript('resilience/lua/fencedWrite.lua');

  it('reads the name and key count from the file name', () => {
    expect(release).toMatchObject({ name: 's2p:leaseRelease', numberOfKeys: 1 });
    expect(release.lua).toMatch(/^--\[\[/);
    expect(fenced.numberOfKeys).toBeUndefined();
  });

  it('runs a script, again after SCRIPT FLUSH, and with a key count passed by the caller', async () => {
    const key = `${uniquePrefix('lua')}:lease`;
    await redis.set(key, 'me');
    expect(await runLua(redis, release, [key], ['other'])).toBe(0);
    await redis.script('FLUSH');
    expect(await runLua(redis, release, [key], ['me'])).toBe(1);
    expect(await redis.exists(key)).toBe(0);
    await redis.set(key, 'me');
    const ops = JSON.stringify([{ cmd: 'SET', key: 2, args: ['v'] }]);
    expect(await runLua(redis, fenced, [key, `${key}:x`], ['me', ops])).toBe(1);
    expect(await redis.get(`${key}:x`)).toBe('v');
  });

  it('refuses a key count that does not match the file name', () => {
    expect(() => runLua(redis, release, ['a', 'b'], ['me'])).toThrow('s2p:leaseRelease takes 1 keys, not 2');
  });
});
