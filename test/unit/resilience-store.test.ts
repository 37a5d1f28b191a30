// Reading stored supervisor records: what the writers write reads back without a warning; what does
// not fit their schema is dropped (outages) or read as unknown (health fields), with a warning.
import { describe, expect, it } from 'vitest';
import { openOutage, outagesToStore, closeOutage } from '../../src/resilience/outages.js';
import { EMPTY_HEALTH, parseHealth } from '../../src/resilience/health-record.js';
import { parseOutages } from '../../src/resilience/store.js';
import { outage } from '../helpers/outages.js';

describe('stored outage history', () => {
  it('reads back what the supervisor writes, without a warning', () => {
    const o = closeOutage(
      openOutage({ id: 'a', startedAt: 1_000.5, detectedAt: 2_000, trigger: 'probe', firstError: 'PlexServerDown: x' }),
      9_000.25,
      3,
    );
    const warnings: string[] = [];
    expect(parseOutages(outagesToStore([o]), warnings)).toEqual([o]);
    expect(warnings).toEqual([]);
  });

  it('drops the records that do not fit, keeps the rest, and says how many', () => {
    const good = outage({ id: 'good', startedAt: 5_000 });
    const warnings: string[] = [];
    const raw = JSON.stringify([{ ...good, id: 'bad', jobsAffected: 'a' }, null, { id: 'x', startedAt: 1 }, good]);
    expect(parseOutages(raw, warnings)).toEqual([good]);
    expect(warnings).toEqual(['3 stored outage record(s) unreadable: dropped']);
  });

  it('never writes a record that would not read back', () => {
    const broken = { ...outage({ id: 'nan', startedAt: 5_000 }), jobsAffected: Number.NaN };
    const stored = JSON.parse(outagesToStore([broken, outage({ id: 'ok', startedAt: 6_000 })])) as { id: string }[];
    expect(stored.map((o) => o.id)).toEqual(['ok']);
  });
});

describe('stored health record', () => {
  it('reads back what the supervisor writes (fractional latency and jittered probe times), without a warning', () => {
    const h = {
      lastProbeAt: 1_700_000_000_000,
      ok: true,
      latencyMs: 12.345,
      error: null,
      nextProbeAt: 1_700_000_004_321.7,
      tokenRejected: false,
      tokenCheckedAt: null,
      stashLastCheckAt: 1_700_000_000_100,
      stashCheckedAt: 1_700_000_000_100,
      stashReachable: true,
      stashKeyRejected: false,
      stashDown: false,
      stashVersion: 'v0.28.1',
      stashError: null,
    };
    const warnings: string[] = [];
    expect(parseHealth(JSON.stringify(h), warnings)).toEqual(h);
    expect(warnings).toEqual([]);
  });

  it('reads a field that does not fit as unknown, keeping the others', () => {
    const warnings: string[] = [];
    const h = parseHealth(
      JSON.stringify({ lastProbeAt: 5, ok: 'yes', latencyMs: -1, error: 'PlexServerDown: x', tokenRejected: 'no' }),
      warnings,
    );
    expect(h).toEqual({ ...EMPTY_HEALTH, lastProbeAt: 5, error: 'PlexServerDown: x' });
    expect(warnings).toEqual(['stored health record: ok, latencyMs, tokenRejected unreadable: ignored']);
  });
});
