// The outage chart of the status page: a pure function from outage records and a clock to an SVG string.
// One lane on a time axis: each outage is a bar from startedAt to endedAt (or now, while it lasts), the
// recovery ramp after it a lighter bar up to rampEndedAt, the ongoing outage highlighted.
import type { Outage } from '../resilience/outages.js';
import { formatDuration } from '../resilience/format.js';

export interface ChartOptions {
  now: number;
  /** Outages shown, newest first (default 10). */
  limit?: number;
  /** viewBox size (the SVG scales to its container's width). */
  width?: number;
  height?: number;
  /** Shortest axis shown (default 2 minutes), so a lone short outage doesn't fill the whole width. */
  minSpanMs?: number;
  /** IANA zone of the tick labels (default: the process's local zone). */
  timeZone?: string;
}

export interface Tick {
  at: number;
  label: string;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Tick steps, smallest first: the first giving at most `maxTicks` ticks is used. */
const STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  90 * DAY,
  365 * DAY,
];

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Offset of `at` from UTC in ms in `timeZone`, so ticks fall on local round times (whole hours, days). */
function zoneOffsetMs(at: number, timeZone: string | undefined): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** Tick label: time of day with seconds under a minute's step, without them under a day's, else the date. */
export function tickLabel(at: number, stepMs: number, timeZone?: string): string {
  const opts: Intl.DateTimeFormatOptions =
    stepMs < MINUTE
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
      : stepMs < DAY
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : { month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat('en-GB', { ...opts, timeZone }).format(at);
}

/**
 * Ticks on [from, to] at round times (in `timeZone`): the smallest step of STEPS giving at most
 * `maxTicks` ticks. Pure.
 */
export function timeTicks(from: number, to: number, maxTicks = 7, timeZone?: string): { stepMs: number; ticks: Tick[] } {
  const span = Math.max(1, to - from);
  const stepMs = STEPS.find((s) => span / s <= maxTicks) ?? STEPS.at(-1)!;
  const offset = stepMs >= HOUR ? zoneOffsetMs(from, timeZone) : 0;
  const first = Math.ceil((from + offset) / stepMs) * stepMs - offset;
  const ticks: Tick[] = [];
  for (let at = first; at <= to; at += stepMs) ticks.push({ at, label: tickLabel(at, stepMs, timeZone) });
  return { stepMs, ticks };
}

/** The time window shown: from a little before the oldest outage shown to now. */
export function chartDomain(outages: readonly Outage[], now: number, minSpanMs = 2 * MINUTE): { from: number; to: number } {
  const oldest = outages.reduce((m, o) => Math.min(m, o.startedAt), now);
  const span = Math.max(minSpanMs, now - oldest);
  const pad = Math.round(span * 0.05);
  return { from: now - span - pad, to: now };
}

/** The end of an outage's bar: its endedAt, or now while it lasts (never before its start). */
const endOf = (o: Outage, now: number) => Math.max(o.startedAt, Math.min(now, o.endedAt ?? now));

/** Where things go in the viewBox, and the time → x mapping of the domain [from, to]. */
interface Layout {
  width: number;
  height: number;
  left: number;
  right: number;
  laneTop: number;
  laneHeight: number;
  axisY: number;
  from: number;
  to: number;
  now: number;
  x: (t: number) => number;
}

function layoutOf(outages: readonly Outage[], opts: ChartOptions): Layout {
  const width = opts.width ?? 800;
  const { from, to } = chartDomain(outages, opts.now, opts.minSpanMs);
  const left = 12;
  const right = width - 12;
  const laneTop = 22;
  const laneHeight = 46;
  const x = (t: number) => left + ((Math.min(to, Math.max(from, t)) - from) / (to - from)) * (right - left);
  return {
    width,
    height: opts.height ?? 130,
    left,
    right,
    laneTop,
    laneHeight,
    axisY: laneTop + laneHeight + 10,
    from,
    to,
    now: opts.now,
    x,
  };
}

/** One decimal is enough for coordinates. */
const r = (n: number) => Math.round(n * 10) / 10;

function svgOpen(l: Layout): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${l.width} ${l.height}" width="100%" role="img" ` +
    `aria-label="Outages on a time axis" class="outage-chart" data-testid="outage-chart" data-from="${l.from}" data-to="${l.to}">` +
    '<defs><pattern id="ongoing-stripes" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)">' +
    '<rect width="8" height="8" fill="#dc2626"/><rect width="4" height="8" fill="#ef4444"/></pattern></defs>'
  );
}

/** The lane background, the axis with its ticks, and the "now" marker at the right end. */
function axisParts(l: Layout, timeZone: string | undefined): string[] {
  const { left, right, laneTop, laneHeight, axisY } = l;
  const parts = [
    `<rect x="${left}" y="${laneTop}" width="${right - left}" height="${laneHeight}" rx="4" fill="#f1f5f4"/>`,
    `<line x1="${left}" y1="${axisY}" x2="${right}" y2="${axisY}" stroke="#94a3b8" stroke-width="1"/>`,
  ];
  const { ticks } = timeTicks(l.from, l.to, Math.max(2, Math.floor((right - left) / 110)), timeZone);
  for (const t of ticks) {
    const tx = r(l.x(t.at));
    parts.push(`<line x1="${tx}" y1="${laneTop}" x2="${tx}" y2="${axisY + 5}" stroke="#cbd5e1" stroke-width="1" stroke-dasharray="2 3"/>`);
    const anchor = tx < left + 30 ? 'start' : tx > right - 30 ? 'end' : 'middle';
    parts.push(
      `<text x="${tx}" y="${axisY + 20}" text-anchor="${anchor}" font-size="12" fill="#475569" data-tick="${t.at}">${escapeXml(t.label)}</text>`,
    );
  }
  parts.push(`<line x1="${right}" y1="${laneTop - 6}" x2="${right}" y2="${axisY}" stroke="#0f172a" stroke-width="1.5"/>`);
  parts.push(`<text x="${right}" y="${laneTop - 9}" text-anchor="end" font-size="11" fill="#0f172a">now</text>`);
  return parts;
}

function emptyNote(l: Layout): string {
  return `<text x="${(l.left + l.right) / 2}" y="${l.laneTop + l.laneHeight / 2 + 5}" text-anchor="middle" font-size="14" fill="#64748b" data-testid="chart-empty">No outages recorded</text>`;
}

function outageTitle(o: Outage, end: number, duration: number): string {
  const ongoing = o.endedAt === null;
  return (
    `${ongoing ? 'Ongoing outage' : 'Outage'} ${new Date(o.startedAt).toISOString()} – ` +
    `${ongoing ? 'now' : new Date(end).toISOString()} (${formatDuration(duration)}), ` +
    `${o.jobsAffected} ${o.jobsAffected === 1 ? 'job' : 'jobs'} affected` +
    (o.firstError ? `; first error: ${o.firstError}` : '')
  );
}

/** The recovery ramp after a completed outage, up to its end (or now while it runs); none when under a pixel. */
function rampBar(o: Outage, end: number, l: Layout): string[] {
  const rampEnd = o.rampEndedAt === null ? l.now : Math.max(end, o.rampEndedAt);
  const rw = l.x(rampEnd) - l.x(end);
  if (rw < 1) return [];
  return [
    `<rect x="${r(l.x(end))}" y="${l.laneTop + 12}" width="${r(rw)}" height="${l.laneHeight - 24}" fill="#fcd34d" opacity="0.75" data-ramp-of="${escapeXml(o.id)}">` +
      `<title>Recovery ramp${o.rampEndedAt === null ? ' (running)' : ''}</title></rect>`,
  ];
}

/** An outage's bar (and its ramp, or the "ongoing" label while it lasts). */
function outageParts(o: Outage, l: Layout): string[] {
  const end = endOf(o, l.now);
  const ongoing = o.endedAt === null;
  const x0 = l.x(o.startedAt);
  const w = Math.max(3, l.x(end) - x0);
  const duration = ongoing ? end - o.startedAt : (o.durationMs ?? end - o.startedAt);
  const parts = ongoing ? [] : rampBar(o, end, l);
  parts.push(
    `<rect x="${r(x0)}" y="${l.laneTop + 4}" width="${r(w)}" height="${l.laneHeight - 8}" rx="2" ` +
      `fill="${ongoing ? 'url(#ongoing-stripes)' : '#e11d48'}" ${ongoing ? 'stroke="#7f1d1d" stroke-width="2"' : 'opacity="0.85"'} ` +
      `class="outage-bar${ongoing ? ' ongoing' : ''}" data-outage-id="${escapeXml(o.id)}" data-ongoing="${ongoing}" ` +
      `data-start="${o.startedAt}" data-end="${end}"><title>${escapeXml(outageTitle(o, end, duration))}</title></rect>`,
  );
  if (ongoing) {
    const lx = Math.min(l.right - 34, x0 + w); // left of the "now" label
    parts.push(
      `<text x="${r(lx)}" y="${l.laneTop - 9}" text-anchor="end" font-size="11" font-weight="600" fill="#b91c1c" data-testid="chart-ongoing">ongoing ${escapeXml(formatDuration(duration))}</text>`,
    );
  }
  return parts;
}

function legend(l: Layout): string {
  const { left } = l;
  const ly = l.height - 10;
  return (
    `<g font-size="11" fill="#475569">` +
    `<rect x="${left}" y="${ly - 9}" width="12" height="10" fill="#e11d48" opacity="0.85"/><text x="${left + 17}" y="${ly}">outage</text>` +
    `<rect x="${left + 75}" y="${ly - 9}" width="12" height="10" fill="url(#ongoing-stripes)"/><text x="${left + 92}" y="${ly}">ongoing</text>` +
    `<rect x="${left + 155}" y="${ly - 9}" width="12" height="10" fill="#fcd34d"/><text x="${left + 172}" y="${ly}">recovery ramp</text>` +
    `</g>`
  );
}

/**
 * The SVG of the last `limit` outages on a time axis. Every element a test or a person may want to
 * find has a data attribute: `data-outage-id`, `data-ongoing`, `data-start`/`data-end` (epoch ms) on
 * bars, `data-tick` on tick labels. With no outage the axis is drawn with a "No outages recorded" note.
 */
export function renderOutageChart(history: readonly Outage[], opts: ChartOptions): string {
  const outages = [...history].sort((a, b) => b.startedAt - a.startedAt).slice(0, opts.limit ?? 10);
  const l = layoutOf(outages, opts);
  const parts = [svgOpen(l), ...axisParts(l, opts.timeZone)];
  if (outages.length === 0) parts.push(emptyNote(l));
  // Oldest first, so the newest is drawn on top.
  for (const o of [...outages].reverse()) parts.push(...outageParts(o, l));
  parts.push(legend(l), '</svg>');
  return parts.join('');
}
