import { describe, expect, it } from 'vitest';
import { chartDomain, escapeXml, renderOutageChart, tickLabel, timeTicks } from '../../src/dashboard/chart.js';
import type { Outage } from '../../src/resilience/outages.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0); // 2024-05-01 12:00:00Z
const outage = (id: string, startedAt: number, endedAt: number | null, extra: Partial<Outage> = {}): Outage => ({
  id,
  startedAt,
  detectedAt: startedAt + 500,
  endedAt,
  durationMs: endedAt === null ? null : endedAt - startedAt,
  trigger: 'probe',
  firstError: 'PlexServerDown: connect ECONNREFUSED',
  jobsAffected: 3,
  rampEndedAt: endedAt === null ? null : endedAt + 10_000,
  ...extra,
});

/** Attributes of every element matching `tag` with attribute `attr`. */
function elements(svg: string, tag: string, attr: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of svg.matchAll(new RegExp(`<${tag}\\s([^>]*${attr}="[^"]*"[^>]*)>`, 'g'))) {
    out.push(Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
  }
  return out;
}

describe('timeTicks', () => {
  it('picks the smallest round step giving at most maxTicks ticks, on round times', () => {
    const { stepMs, ticks } = timeTicks(T0 + 3_000, T0 + 63_000, 7, 'UTC');
    expect(stepMs).toBe(10_000);
    expect(ticks.map((t) => t.label)).toEqual(['12:00:10', '12:00:20', '12:00:30', '12:00:40', '12:00:50', '12:01:00']);
    for (const t of ticks) expect(t.at % 10_000).toBe(0);
  });

  it('drops seconds from minute steps and shows dates for day steps', () => {
    expect(timeTicks(T0, T0 + 3_600_000, 7, 'UTC').ticks[1].label).toBe('12:10');
    const days = timeTicks(T0, T0 + 5 * 86_400_000, 7, 'UTC');
    expect(days.stepMs).toBe(86_400_000);
    expect(days.ticks[0].label).toBe('2 May');
    expect(tickLabel(T0, 1_000, 'UTC')).toBe('12:00:00');
  });

  it('puts hour ticks on whole hours of the given zone', () => {
    const { ticks } = timeTicks(T0 + 1_000, T0 + 10 * 3_600_000, 7, 'Asia/Kolkata'); // UTC+5:30
    expect(ticks[0].label.endsWith(':00')).toBe(true);
    expect((ticks[0].at - 30 * 60_000) % 3_600_000).toBe(0);
  });
});

describe('chartDomain', () => {
  it('spans from a little before the oldest outage to now, at least minSpanMs', () => {
    expect(chartDomain([], T0, 120_000)).toEqual({ from: T0 - 126_000, to: T0 });
    const d = chartDomain([outage('a', T0 - 600_000, T0 - 500_000)], T0, 120_000);
    expect(d.to).toBe(T0);
    expect(d.from).toBe(T0 - 630_000);
  });
});

describe('renderOutageChart', () => {
  it('draws each outage as a bar from startedAt to endedAt on the time axis, in proportion', () => {
    const now = T0;
    const list = [outage('b', T0 - 200_000, T0 - 100_000), outage('a', T0 - 1_000_000, T0 - 900_000)];
    const svg = renderOutageChart(list, { now, width: 800, timeZone: 'UTC', minSpanMs: 60_000 });
    const bars = elements(svg, 'rect', 'data-outage-id');
    expect(bars.map((b) => b['data-outage-id']).sort()).toEqual(['a', 'b']);
    const from = Number(svg.match(/data-from="(\d+)"/)![1]);
    const scale = (800 - 24) / (now - from);
    for (const b of bars) {
      const o = list.find((x) => x.id === b['data-outage-id'])!;
      expect(Number(b.x)).toBeCloseTo(12 + (o.startedAt - from) * scale, 0);
      expect(Number(b.width)).toBeCloseTo(100_000 * scale, 0);
      expect(b['data-ongoing']).toBe('false');
      expect(Number(b['data-end'])).toBe(o.endedAt);
    }
    // Both bars of equal duration have equal widths; the newer is further right.
    const [xa, xb] = ['a', 'b'].map((id) => Number(bars.find((b) => b['data-outage-id'] === id)!.x));
    expect(xb).toBeGreaterThan(xa);
    // Tick labels exist and lie within the axis.
    const ticks = elements(svg, 'text', 'data-tick');
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks) expect(Number(t['data-tick'])).toBeGreaterThanOrEqual(from);
    expect(svg).not.toContain('chart-empty');
  });

  it('highlights the ongoing outage, with its bar up to now', () => {
    const svg = renderOutageChart([outage('live', T0 - 65_000, null), outage('old', T0 - 300_000, T0 - 250_000)], {
      now: T0,
      timeZone: 'UTC',
    });
    const live = elements(svg, 'rect', 'data-outage-id').find((b) => b['data-outage-id'] === 'live')!;
    expect(live['data-ongoing']).toBe('true');
    expect(live.class).toContain('ongoing');
    expect(live.fill).toBe('url(#ongoing-stripes)');
    expect(Number(live['data-end'])).toBe(T0);
    expect(Number(live.x) + Number(live.width)).toBeCloseTo(788, 0);
    expect(svg).toMatch(/data-testid="chart-ongoing">ongoing 1m 5s</);
  });

  it('draws the recovery ramp after a completed outage', () => {
    const svg = renderOutageChart([outage('r', T0 - 100_000, T0 - 60_000, { rampEndedAt: null })], { now: T0, timeZone: 'UTC' });
    const ramp = elements(svg, 'rect', 'data-ramp-of')[0];
    expect(ramp['data-ramp-of']).toBe('r');
    expect(Number(ramp.width)).toBeGreaterThan(0);
  });

  it('shows only the last `limit` outages and an empty state without any', () => {
    const many = Array.from({ length: 15 }, (_, i) => outage(`o${i}`, T0 - (i + 1) * 100_000, T0 - (i + 1) * 100_000 + 10_000));
    const svg = renderOutageChart(many, { now: T0, limit: 10 });
    expect(elements(svg, 'rect', 'data-outage-id')).toHaveLength(10);
    expect(svg).not.toContain('data-outage-id="o10"');
    expect(renderOutageChart([], { now: T0 })).toContain('No outages recorded');
  });

  it('keeps a very short outage visible and escapes text', () => {
    const svg = renderOutageChart([outage('<x>', T0 - 86_400_000, T0 - 86_400_000 + 200, { firstError: '<script>alert(1)</script>' })], {
      now: T0,
    });
    const bar = elements(svg, 'rect', 'data-outage-id')[0];
    expect(Number(bar.width)).toBeGreaterThanOrEqual(3);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(bar['data-outage-id']).toBe('&lt;x&gt;');
    expect(escapeXml(`a&"'<>`)).toBe('a&amp;&quot;&#39;&lt;&gt;');
  });
});
