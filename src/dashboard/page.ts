// The status page at `/`: server-rendered HTML from the status document (pure functions, no front-end
// build). A tiny inline script re-fetches the page's main part every 2 s (`/?partial=main`, rendered by
// the same function as the first load) and swaps it in, so one renderer serves both. The dead-letter
// recovery panel lives outside that part (its dry run → confirm dialog must survive the refresh).
import type { QueueStatus, StatusJson } from '../supervisor/status.js';
import { conflictLines } from '../sync/claims.js';
import { skippedText } from '../sync/readiness.js';
import { GAP_CLASSES, reportSummary, type GapClass } from '../sync/library-gaps.js';
import { SYNC_QUEUE } from '../core/keys.js';
import type { Outage } from '../resilience/outages.js';
import { formatAgo, formatDateTime, formatDuration, formatRate } from '../resilience/format.js';
import { escapeXml as esc, renderOutageChart } from './chart.js';
import { CSRF_HEADER_VALUE } from './security.js';
import { settingsPanelBody } from './settings-panel.js';

export interface PageContext {
  now: number;
  /** Settings the page explains itself with (none of them secret). */
  settings: {
    ramp: { initialRate: number; targetRate: number; durationMs: number };
    plexMaxRate: number | null;
    successThreshold: number;
  };
  /** CSP nonce of the inline style and script. */
  nonce: string;
  timeZone?: string;
  /** Refresh period of the page script, ms. */
  refreshMs?: number;
}

export const REFRESH_MS = 2_000;

/** A future time as "in 3s" ("now" when due or past). */
function formatIn(at: number, now: number): string {
  const d = at - now;
  return d < 1000 ? 'now' : `in ${formatDuration(d)}`;
}

const STATE_TEXT = {
  CLOSED: 'Plex is up: jobs flow normally.',
  OPEN: 'Plex is down: the sync queue is paused until it answers again. No job is lost.',
  HALF_OPEN: 'Plex answers again: a trial lets one job per second through before the ramp.',
} as const;

const RECOVERING_TEXT = 'Plex is back: the backlog drains at a graduated rate (recovery ramp).';

function breakerHeld(s: StatusJson, now: number): string {
  if (s.breaker.since === 0) return `${s.breaker.state} (no state recorded yet)`;
  return `${s.breaker.state} for ${formatDuration(now - s.breaker.since)}`;
}

function card(id: string, title: string, body: string, extraClass = ''): string {
  return `<section class="card ${extraClass}" data-testid="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

function dl(rows: [string, string, string?][]): string {
  return `<dl>${rows.map(([k, v, id]) => `<dt>${esc(k)}</dt><dd${id ? ` data-testid="${id}"` : ''}>${v}</dd>`).join('')}</dl>`;
}

function healthCard(s: StatusJson, now: number, tz?: string): string {
  const h = s.health;
  let last: string;
  if (h.lastProbeAt === null) last = '<span class="muted">no probe yet</span>';
  else if (h.ok) last = `<span class="ok">answered</span> in ${esc(formatDuration(h.latencyMs ?? 0))}`;
  else last = `<span class="bad">failed</span>${h.error ? `: <span class="err">${esc(h.error)}</span>` : ''}`;
  const rows: [string, string, string?][] = [
    ['Last probe', last, 'probe-last'],
    [
      'Probed',
      h.lastProbeAt === null ? '—' : `<time title="${esc(formatDateTime(h.lastProbeAt, tz))}">${esc(formatAgo(h.lastProbeAt, now))}</time>`,
      'probe-at',
    ],
    [
      'Next probe',
      h.nextProbeAt === null
        ? '<span class="muted">not scheduled</span>'
        : `<time title="${esc(formatDateTime(h.nextProbeAt, tz))}">${esc(formatIn(h.nextProbeAt, now))}</time>`,
      'probe-next',
    ],
  ];
  const token = h.tokenRejected
    ? '<p class="alert" data-testid="token-rejected">Plex rejected the token (PLEX_TOKEN): the sync queue is paused (token rejected) and its jobs are held, not failed, until Plex accepts it again. This is not an outage.</p>'
    : '';
  return card('health-card', 'Plex health probe', dl(rows) + token + matchingAlerts(s));
}

/** The PATH_MAP suggestion, the PLEX_LIBRARIES problems and the matching conflicts (docs/MATCHING.md), each a line of its own. */
function matchingAlerts(s: StatusJson): string {
  const m = s.matching;
  const lines = [
    ...(m?.pathHint ? [['path-hint', m.pathHint]] : []),
    ...(m?.libraryProblems ?? []).map((p) => ['library-problem', p]),
    ...conflictLines(m?.conflicts ?? { count: 0, recent: [] }).map((line) => ['match-conflict', line]),
  ];
  return lines.map(([id, text]) => `<p class="alert" data-testid="${id}">${esc(text)}</p>`).join('');
}

function rampCard(s: StatusJson, ctx: PageContext): string {
  const { now, settings } = ctx;
  const q = Object.values(s.queues)[0];
  if (s.recovery.active && s.recovery.rate !== null && s.recovery.startedAt !== null) {
    const rate = s.recovery.rate;
    const target = s.recovery.targetRate;
    const pct = Math.max(0, Math.min(100, (rate / target) * 100));
    const endsAt = s.recovery.startedAt + settings.ramp.durationMs;
    const body =
      `<p class="big" data-testid="ramp-rate">${esc(formatRate(rate))} <span class="muted">of ${esc(formatRate(target))}</span></p>` +
      `<progress data-testid="ramp-progress" max="100" value="${pct.toFixed(1)}" aria-label="Recovery ramp: ${pct.toFixed(0)}% of the target rate">${pct.toFixed(0)}%</progress>` +
      `<p class="small"><span data-testid="ramp-percent">${pct.toFixed(0)}%</span> of the target rate · started ${esc(formatAgo(s.recovery.startedAt, now))} · ` +
      `full rate ${esc(formatIn(endsAt, now))}</p>` +
      `<p class="small muted">The backlog drains at a rate growing from ${esc(formatRate(settings.ramp.initialRate))} to ${esc(formatRate(target))} ` +
      `over ${esc(formatDuration(settings.ramp.durationMs))}, halved while errors are high.</p>`;
    return card('ramp-card', 'Recovery ramp', body, 'ramp-active');
  }
  let body: string;
  if (s.breaker.state === 'HALF_OPEN') {
    body = `<p class="big" data-testid="ramp-rate">Trial: ${esc(formatRate(1))}</p><p class="small muted">${settings.successThreshold} ${settings.successThreshold === 1 ? 'success closes' : 'successes close'} the breaker; then the ramp starts at ${esc(formatRate(settings.ramp.initialRate))}.</p>`;
  } else if (s.breaker.state === 'OPEN') {
    body = `<p class="big" data-testid="ramp-rate">Waiting for Plex</p><p class="small muted">When Plex is back the backlog drains from ${esc(formatRate(settings.ramp.initialRate))} up to ${esc(formatRate(s.recovery.targetRate))} over ${esc(formatDuration(settings.ramp.durationMs))}.</p>`;
  } else {
    const limit = q?.rateLimit ? formatRate((q.rateLimit.max * 1000) / q.rateLimit.duration) : formatRate(settings.plexMaxRate);
    body = `<p class="big" data-testid="ramp-rate">Full rate <span class="muted">(${esc(limit)})</span></p><p class="small muted">No recovery in progress.</p>`;
  }
  return card('ramp-card', 'Recovery ramp', body);
}

function queueCard(name: string, q: QueueStatus, skipped: Record<string, number> | null): string {
  const reasons = q.pauseReasons.length
    ? ` <span class="small" data-testid="queue-${esc(name)}-pause-reasons">${esc(q.pauseReasons.join(', '))}</span>`
    : '';
  const state = q.paused
    ? `<span class="chip chip-bad" data-testid="queue-${esc(name)}-paused">paused by ${esc(q.pausedBy ?? 'operator')}</span>${reasons}`
    : `<span class="chip chip-ok" data-testid="queue-${esc(name)}-paused">running</span>`;
  const counts = (['waiting', 'active', 'delayed', 'failed', 'completed'] as const)
    .map(
      (k) =>
        `<div class="count${k === 'failed' && q.failed > 0 ? ' count-bad' : ''}"><span class="n" data-testid="queue-${esc(name)}-${k}">${q[k].toLocaleString('en-US')}</span><span class="k">${k}</span></div>`,
    )
    .join('');
  const limit = q.rateLimit
    ? `${esc(formatRate((q.rateLimit.max * 1000) / q.rateLimit.duration))} (${q.rateLimit.max} per ${esc(formatDuration(q.rateLimit.duration))})`
    : 'none';
  return card(
    `queue-${name}`,
    `Queue “${name}”`,
    `<p>${state} <a class="small" href="queues/queue/${encodeURIComponent(name)}">open in Bull Board →</a></p><div class="counts">${counts}</div>` +
      `<p class="small">Rate limit: <span data-testid="queue-${esc(name)}-ratelimit">${limit}</span>${q.failed > 0 ? ` · <a href="queues/queue/${encodeURIComponent(name)}?status=failed">failed jobs (dead letters)</a>` : ''}</p>` +
      (skipped ? `<p class="small" data-testid="sync-skipped">${esc(skippedText(skipped))}</p>` : ''),
  );
}

function supervisorBlock(s: StatusJson): string {
  if (s.supervisor.alive) {
    return (
      `<div class="sup" data-testid="supervisor-card"><span class="small muted">Supervisor</span> <span class="chip chip-ok" data-testid="supervisor-alive">alive</span>` +
      `<br><span class="small muted">leader</span> <code data-testid="supervisor-leader">${esc(s.supervisor.leader ?? '')}</code></div>`
    );
  }
  return (
    `<div class="sup" data-testid="supervisor-card"><span class="small muted">Supervisor</span> <span class="chip chip-bad" data-testid="supervisor-alive">not running</span>` +
    `<br><span class="small bad">outages are not detected: start <code>npm run supervisor</code></span></div>`
  );
}

function metricsSection(s: StatusJson): string {
  const m = s.outages.metrics;
  const none = m.count === 0;
  const item = (id: string, label: string, value: string, hint: string) =>
    `<div class="metric"><span class="v" data-testid="metric-${id}">${esc(value)}</span><span class="k">${esc(label)}</span><span class="hint">${esc(hint)}</span></div>`;
  return (
    `<section class="card wide" data-testid="metrics"><h2>Outage metrics <span class="muted small">(completed outages in the kept history)</span></h2><div class="metrics">` +
    item('count', 'Outages', String(m.count), 'completed') +
    item('availability', 'Availability', `${m.availabilityPct.toFixed(2)} %`, 'MTBF / (MTBF + MTTR)') +
    item('mttr', 'MTTR', none ? '—' : formatDuration(m.mttrMs), 'mean time to recovery') +
    item('mtbf', 'MTBF', none ? '—' : formatDuration(m.mtbfMs), 'mean time between outages') +
    item('downtime', 'Total downtime', formatDuration(m.totalDowntimeMs), 'sum of durations') +
    item('detection', 'Mean detection', none ? '—' : formatDuration(m.meanDetectionMs), 'first failure → breaker open') +
    `</div></section>`
  );
}

function outageRow(o: Outage, now: number, tz?: string): string {
  const ongoing = o.endedAt === null;
  const duration = ongoing ? now - o.startedAt : (o.durationMs ?? 0);
  const ramp = ongoing
    ? '—'
    : o.rampEndedAt === null
      ? '<span class="chip chip-warn">ramping</span>'
      : esc(formatDateTime(o.rampEndedAt, tz));
  return (
    `<tr data-outage-id="${esc(o.id)}"${ongoing ? ' class="ongoing"' : ''}>` +
    `<td class="nowrap"><time title="${esc(new Date(o.startedAt).toISOString())}">${esc(formatDateTime(o.startedAt, tz))}</time><br><span class="small muted">${esc(formatAgo(o.startedAt, now))}</span></td>` +
    `<td data-col="duration" class="nowrap">${ongoing ? `<span class="chip chip-bad">ongoing</span> ` : ''}${esc(formatDuration(duration))}</td>` +
    `<td>${esc(formatDuration(Math.max(0, o.detectedAt - o.startedAt)))}</td>` +
    `<td>${esc(o.trigger)}</td>` +
    `<td data-col="jobs" class="num">${ongoing ? '<span class="muted">counted at the end</span>' : o.jobsAffected.toLocaleString('en-US')}</td>` +
    `<td class="err">${o.firstError ? esc(o.firstError) : '<span class="muted">—</span>'}</td>` +
    `<td class="nowrap">${ramp}</td></tr>`
  );
}

function outagesSection(s: StatusJson, ctx: PageContext): string {
  const list = s.outages.recent;
  const table = list.length
    ? `<div class="table-wrap"><table data-testid="outage-table"><thead><tr><th>Started</th><th>Duration</th><th>Detected after</th><th>Trigger</th><th>Jobs affected</th><th>First error</th><th>Ramp ended</th></tr></thead><tbody>` +
      list.map((o) => outageRow(o, ctx.now, ctx.timeZone)).join('') +
      `</tbody></table></div>`
    : '<p class="muted" data-testid="outage-table-empty">No outage recorded yet.</p>';
  return (
    `<section class="card wide"><h2>Outages</h2>` +
    `<div class="chart">${renderOutageChart(list, { now: ctx.now, timeZone: ctx.timeZone })}</div>` +
    table +
    `</section>`
  );
}

const GAP_TITLES: Record<GapClass, string> = {
  notInPlex: 'not in Plex',
  empty: 'no synced field set',
  drifted: 'drifted in Plex',
  neverSynced: 'never synced',
  moved: 'moved since last sync',
};

/** The last Reconcile Library report (a dry run's too): counts by class and the first scene ids. */
function reconcileSection(s: StatusJson, ctx: PageContext): string {
  const r = s.reconcile?.last;
  if (!r)
    return card(
      'reconcile-card',
      'Reconcile Library: last report',
      '<p class="muted" data-testid="reconcile-none">No Reconcile Library run yet: run it below, with <code>npm run reconcile</code> or the Stash task.</p>',
      'wide',
    );
  const counts = GAP_CLASSES.map(
    (c) =>
      `<div class="count${r[c].count > 0 ? ' count-bad' : ''}" title="${esc(r[c].sceneIds.length ? `scenes ${r[c].sceneIds.join(', ')}${r[c].count > r[c].sceneIds.length ? ', …' : ''}` : 'none')}">` +
      `<span class="n" data-testid="reconcile-${c}">${r[c].count.toLocaleString('en-US')}</span><span class="k">${esc(GAP_TITLES[c])}</span></div>`,
  ).join('');
  const ids = GAP_CLASSES.filter((c) => r[c].count > 0)
    .map((c) => `${GAP_TITLES[c]}: ${r[c].sceneIds.join(', ')}${r[c].count > r[c].sceneIds.length ? ', …' : ''}`)
    .join(' · ');
  return card(
    'reconcile-card',
    'Reconcile Library: last report',
    `<p class="small">Last run${r.dryRun ? ' (dry run)' : ''} <time title="${esc(formatDateTime(r.finishedAt, ctx.timeZone))}">${esc(formatAgo(r.finishedAt, ctx.now))}</time>: ` +
      `<span data-testid="reconcile-scanned">${r.scanned.toLocaleString('en-US')}</span> scenes read in ${esc(formatDuration(r.durationMs))} · <span data-testid="reconcile-queued">${esc(reportSummary(r))}</span></p>` +
      `<div class="counts counts-4">${counts}</div>${ids ? `<p class="small muted" data-testid="reconcile-ids">Scene ids: ${esc(ids)}</p>` : ''}`,
    'wide',
  );
}

/**
 * Scenes kept out of sync (restored), newest first, each with "Sync again" (POST /api/restore/resume;
 * the page script handles the buttons by delegation, since this part is re-rendered). Nothing when none.
 */
function excludedSection(s: StatusJson, ctx: PageContext): string {
  const e = s.excluded;
  if (!e || e.count === 0) return '';
  const rows = e.scenes
    .map(
      (x) =>
        `<li data-testid="excluded-scene" data-scene="${esc(x.sceneId)}">scene <code>${esc(x.sceneId)}</code>${x.ratingKey ? ` <span class="small muted">(Plex item ${esc(x.ratingKey)})</span>` : ''} · ${esc(x.why)}` +
        `${x.at ? ` <time class="small muted" title="${esc(formatDateTime(x.at, ctx.timeZone))}">${esc(formatAgo(x.at, ctx.now))}</time>` : ''} ` +
        `<button type="button" data-resume="${esc(x.sceneId)}" data-testid="resume-${esc(x.sceneId)}">Sync again</button></li>`,
    )
    .join('');
  const more =
    e.count > e.scenes.length
      ? `<p class="small muted">… and ${(e.count - e.scenes.length).toLocaleString('en-US')} more (<code>npm run restore -- --resume --all</code> brings them all back)</p>`
      : '';
  return card(
    'excluded-card',
    'Kept out of sync',
    `<p class="small"><span data-testid="excluded-count">${e.count.toLocaleString('en-US')}</span> ${e.count === 1 ? 'scene is' : 'scenes are'} not synced: a restore put back what Plex had, and their edits in Stash wait until you bring them back (“Sync again” queues a sync).</p>` +
      `<ul class="excluded">${rows}</ul>${more}`,
    'wide',
  );
}

/** The part of the page the script refreshes: everything under the header. */
export function renderStatusMain(s: StatusJson, ctx: PageContext): string {
  const state = s.breaker.state;
  const hero =
    `<section class="hero state-${state}" data-testid="breaker" data-state="${state}">` +
    `<span class="badge badge-${state}" data-testid="breaker-badge" data-state="${state}">${state}</span>` +
    `<div><p class="held" data-testid="breaker-held">${esc(breakerHeld(s, ctx.now))}</p>` +
    `<p class="summary" data-testid="breaker-summary">${esc(state === 'CLOSED' && s.recovery.active ? RECOVERING_TEXT : STATE_TEXT[state])}` +
    (s.breaker.consecutiveFailures > 0 && state === 'CLOSED'
      ? ` <strong>${s.breaker.consecutiveFailures} outage-class ${s.breaker.consecutiveFailures === 1 ? 'failure' : 'failures'} in a row.</strong>`
      : '') +
    (s.outages.current
      ? ` Outage started ${esc(formatAgo(s.outages.current.startedAt, ctx.now))}${s.outages.current.firstError ? ` — first error: <span class="err">${esc(s.outages.current.firstError)}</span>` : ''}.`
      : '') +
    `</p></div>${supervisorBlock(s)}</section>`;
  const cards =
    `<div class="grid">` +
    healthCard(s, ctx.now, ctx.timeZone) +
    rampCard(s, ctx) +
    Object.entries(s.queues)
      .map(([name, q]) => queueCard(name, q, name === SYNC_QUEUE ? s.sync.skipped : null))
      .join('') +
    `</div>`;
  return `<div id="status-data" hidden data-state="${state}" data-title="${esc(`${state === 'CLOSED' ? '●' : '▲'} ${state} — stash2plex`)}"></div>${hero}${cards}${excludedSection(s, ctx)}${reconcileSection(s, ctx)}${metricsSection(s)}${outagesSection(s, ctx)}${card('settings-card', 'Settings from Stash', settingsPanelBody(s.settings, ctx.now), 'wide')}`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1e293b;background:#f4f6f8}
header{background:#fff;border-bottom:1px solid #e2e8f0}
.bar{max-width:1120px;margin:0 auto;padding:12px 24px;display:flex;align-items:center;gap:16px;flex-wrap:wrap}
.bar h1{font-size:18px;margin:0;font-weight:650;letter-spacing:-.01em}
.bar nav{display:flex;gap:14px;margin-left:auto;align-items:center}
.bar a{color:#1d4ed8;text-decoration:none}.bar a:hover{text-decoration:underline}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
.hero{display:flex;align-items:center;gap:18px;background:#fff;border:1px solid #e2e8f0;border-left:6px solid #16a34a;border-radius:10px;padding:16px 20px;margin-bottom:18px}
.hero.state-OPEN{border-left-color:#dc2626;background:#fff7f7}.hero.state-HALF_OPEN{border-left-color:#f59e0b;background:#fffbeb}
.hero p{margin:0}.held{font-size:20px;font-weight:600}.summary{color:#475569}
.badge{display:inline-block;min-width:120px;text-align:center;padding:8px 14px;border-radius:999px;font-weight:700;letter-spacing:.04em;font-size:15px}
.badge-CLOSED{background:#16a34a;color:#fff}.badge-OPEN{background:#dc2626;color:#fff}.badge-HALF_OPEN{background:#f59e0b;color:#1f2937}
.grid{display:grid;grid-template-columns:minmax(0,1fr);gap:16px;margin-bottom:16px}
@media (min-width:900px){.grid{grid-template-columns:minmax(0,1fr) minmax(0,1fr) minmax(0,1.4fr)}}
.hero>div:nth-child(2){flex:1}.sup{text-align:right;line-height:1.9;min-width:200px}
.nowrap{white-space:nowrap}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:16px 18px}
.card.wide{margin-bottom:16px}
.card h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:#64748b;margin:0 0 10px;font-weight:650}
.card.ramp-active{border-color:#f59e0b;box-shadow:0 0 0 1px #fde68a inset}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 14px;margin:0}dt{color:#64748b}dd{margin:0;overflow-wrap:anywhere}
.big{font-size:22px;font-weight:650;margin:0 0 8px}
.small{font-size:13px}.muted{color:#64748b;font-weight:400}
.ok{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}.err{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;color:#7f1d1d}
.alert{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;padding:8px 10px;border-radius:6px;margin:10px 0 0}
progress{width:100%;height:14px;appearance:none;-webkit-appearance:none;border:none;border-radius:7px;background:#e2e8f0;overflow:hidden}
progress::-webkit-progress-bar{background:#e2e8f0;border-radius:7px}
progress::-webkit-progress-value{background:linear-gradient(90deg,#f59e0b,#16a34a);border-radius:7px}
progress::-moz-progress-bar{background:linear-gradient(90deg,#f59e0b,#16a34a);border-radius:7px}
.chip{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12.5px;font-weight:600}
.chip-ok{background:#dcfce7;color:#166534}.chip-bad{background:#fee2e2;color:#991b1b}.chip-warn{background:#fef3c7;color:#92400e}
.counts{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:6px;margin:10px 0}
.count{background:#f8fafc;border:1px solid #eef2f6;border-radius:8px;padding:6px 4px;text-align:center}
.count .n{display:block;font-size:19px;font-weight:650;font-variant-numeric:tabular-nums}.count .k{font-size:11.5px;color:#64748b}
.count-bad .n{color:#b91c1c}
.counts-4{grid-template-columns:repeat(4,minmax(0,1fr))}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.metric{display:flex;flex-direction:column;padding:6px 0}.metric .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.metric .k{font-weight:600;font-size:13px}.metric .hint{font-size:12px;color:#64748b}
.chart{margin:4px 0 12px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eef2f6;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#64748b;font-weight:650}
td.num{font-variant-numeric:tabular-nums}
tr.ongoing td{background:#fff1f2}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;background:#f1f5f9;padding:1px 5px;border-radius:4px}
button{font:inherit;font-size:14px;padding:6px 12px;border-radius:6px;border:1px solid #cbd5e1;background:#fff;color:#0f172a;cursor:pointer}
button:hover{background:#f1f5f9}button:disabled{opacity:.6;cursor:progress}
#probe-result{font-size:13px;max-width:380px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.refresh{font-size:12.5px;color:#64748b}.refresh.stale{color:#b91c1c;font-weight:600}
.recovery{max-width:1120px;margin:-24px auto 0;padding:0 24px 40px}
.recovery .row{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0}
.recovery label{font-size:13.5px;color:#334155}
.recovery select{font:inherit;font-size:13.5px;padding:4px 6px;border-radius:6px;border:1px solid #cbd5e1;background:#fff}
#requeue-result{margin:8px 0 0;font-size:14px}#requeue-result:empty{display:none}
#reconcile-result p{margin:2px 0}#reconcile-result:empty{display:none}
#restore-result p{margin:2px 0}#restore-result:empty{display:none}
table.settings{border-collapse:collapse;width:100%;font-size:13.5px}table.settings th,table.settings td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #eef2f6;overflow-wrap:anywhere}.table-scroll{overflow-x:auto}
ul.excluded{list-style:none;margin:8px 0 0;padding:0}ul.excluded li{padding:4px 0;border-bottom:1px solid #eef2f6}ul.excluded button{font-size:12.5px;padding:2px 8px;margin-left:6px}
.recovery input[type=text]{font:inherit;font-size:13.5px;padding:4px 6px;border-radius:6px;border:1px solid #cbd5e1;width:14em}
#requeue-result .big{font-size:18px;margin:0 0 4px}
button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}button.primary:hover{background:#1e40af}
`;

// The page's script, plain ES2017 with no dependencies, in one closure made of three parts.
function script(refreshMs: number): string {
  return `(function(){\n${liveScript(refreshMs)}${POST_JSON_SCRIPT}${REQUEUE_SCRIPT}${CLEAN_SCRIPT}${RECONCILE_SCRIPT}${RESTORE_SCRIPT}})();`;
}

/** Re-renders the main part, keeps the title in step, runs a manual probe. */
function liveScript(refreshMs: number): string {
  return `var main=document.getElementById('status-main'),stamp=document.getElementById('refresh-state');
function sync(){var d=document.getElementById('status-data');if(d){document.title=d.getAttribute('data-title');}}
function tick(){
  fetch('./?partial=main',{credentials:'same-origin',cache:'no-store',headers:{'X-Requested-With':${JSON.stringify(CSRF_HEADER_VALUE)}}})
  .then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.text();})
  .then(function(html){main.innerHTML=html;sync();stamp.textContent='live · updated '+new Date().toLocaleTimeString();stamp.className='refresh';})
  .catch(function(e){stamp.textContent='connection lost ('+e.message+') · retrying';stamp.className='refresh stale';})
  .then(function(){setTimeout(tick,${refreshMs});});
}
setTimeout(tick,${refreshMs});
var btn=document.getElementById('probe-now'),out=document.getElementById('probe-result'),clear;
btn.addEventListener('click',function(){
  btn.disabled=true;out.textContent='probing…';
  fetch('./api/health-check',{method:'POST',credentials:'same-origin',headers:{'X-Requested-With':${JSON.stringify(CSRF_HEADER_VALUE)}}})
  .then(function(r){return r.json();})
  .then(function(j){var t=new Date(j.at||Date.now()).toLocaleTimeString();out.textContent=t+': '+(j.ok?('Plex answered in '+j.latencyMs+' ms'):('Plex did not answer: '+(j.error||'unknown error')));out.className=j.ok?'ok':'bad';out.title=out.textContent;clearTimeout(clear);clear=setTimeout(function(){out.textContent='';out.title='';},15000);})
  .catch(function(e){out.textContent='probe failed: '+e.message;})
  .then(function(){btn.disabled=false;});
});
`;
}

const POST_JSON_SCRIPT = `function jsonPost(body){return {method:'POST',credentials:'same-origin',headers:{'X-Requested-With':${JSON.stringify(CSRF_HEADER_VALUE)},'Content-Type':'application/json'},body:JSON.stringify(body)};}
function postJson(request){
  return request.then(function(r){return r.json().catch(function(){return {error:'HTTP '+r.status};}).then(function(j){if(!r.ok)throw new Error(j.error||('HTTP '+r.status));return j;});});
}
function plural(n,one,many){return n+' '+(n===1?one:many);}
`;

/** Dead-letter recovery: a dry run first; the real run only after the confirm button. */
const REQUEUE_SCRIPT = `// Dead-letter recovery: a dry run first; the real run only after the confirm button, with the options
// the dry run was made with and at most as many jobs as it counted.
var rq={dry:document.getElementById('requeue-dry'),ok:document.getElementById('requeue-confirm'),no:document.getElementById('requeue-cancel'),
  out:document.getElementById('requeue-result'),outage:document.getElementById('requeue-outage'),opt:document.getElementById('requeue-optional')},pending=null;
function line(cls,text){var p=document.createElement('p');if(cls)p.className=cls;p.textContent=text;rq.out.appendChild(p);return p;}
function show(){rq.out.textContent='';for(var i=0;i<arguments.length;i++){var a=arguments[i];if(a)line(a[0],a[1]);}}
function skipped(s){var k=s.skipped||{},parts=[];
  if(k.alreadyQueued)parts.push(k.alreadyQueued+' already queued');if(k.errorType)parts.push(k.errorType+' of other error types');
  if(k.outsideWindow)parts.push(k.outsideWindow+' outside the window');if(k.tooManyRequeues)parts.push(k.tooManyRequeues+' requeued too often already');
  return plural(s.scanned,'failed job','failed jobs')+' scanned'+(parts.length?' · left: '+parts.join(', '):'');}
function reset(){pending=null;rq.ok.hidden=true;rq.no.hidden=true;rq.dry.disabled=false;}
function call(body){return postJson(fetch('./api/requeue',jsonPost(body)));}
rq.dry.addEventListener('click',function(){
  var opts={outage:rq.outage.value,includeOptional:rq.opt.checked};
  reset();rq.dry.disabled=true;show(['muted','Counting the failed jobs a requeue would move (dry run)…']);
  call({dryRun:true,outage:opts.outage,includeOptional:opts.includeOptional}).then(function(s){
    if(s.refused){show(['big bad',plural(s.requeued+s.skipped.breakerNotClosed,'job','jobs')+' could be requeued, but not now'],['small',s.refused],['small muted',skipped(s)]);rq.dry.disabled=false;return;}
    if(s.requeued===0){show(['big','Nothing to requeue: no failed job of '+s.errorTypes.join(', ')+' in the window'],['small muted',skipped(s)]);rq.dry.disabled=false;return;}
    pending={dryRun:false,outage:opts.outage,includeOptional:opts.includeOptional,limit:s.requeued};
    show(['big',plural(s.requeued,'job','jobs')+' would be requeued'],['small muted','Dry run: nothing moved yet. '+s.errorTypes.join(', ')+' · '+skipped(s)]);
    rq.ok.textContent='Requeue '+plural(s.requeued,'job','jobs');rq.ok.hidden=false;rq.no.hidden=false;rq.ok.focus();
  }).catch(function(e){show(['bad','Dry run failed: '+e.message]);rq.dry.disabled=false;});
});
rq.ok.addEventListener('click',function(){
  if(!pending)return;var body=pending;pending=null;rq.ok.hidden=true;rq.no.hidden=true;show(['muted','Requeueing…']);
  call(body).then(function(s){
    if(s.refused)show(['big bad','Refused: nothing was requeued'],['small',s.refused]);
    else show(['big ok','Requeued '+plural(s.requeued,'job','jobs')],['small muted',skipped(s)+(s.limitReached?' · stopped at the '+body.limit+' confirmed':'')]);
  }).catch(function(e){show(['bad','Requeue failed: '+e.message]);}).then(function(){rq.dry.disabled=false;});
});
rq.no.addEventListener('click',function(){reset();show(['muted','Cancelled: nothing was requeued.']);});
rq.outage.addEventListener('change',function(){if(pending){reset();rq.out.textContent='';}});
rq.opt.addEventListener('change',function(){if(pending){reset();rq.out.textContent='';}});
`;

/** Queue maintenance: the same dry run first, then the confirmed real run of that very request. */
const CLEAN_SCRIPT = `// Queue maintenance: the same dry run first, then the confirmed real run of that very request.
var qc={dry:document.getElementById('clean-dry'),ok:document.getElementById('clean-confirm'),no:document.getElementById('clean-cancel'),
  out:document.getElementById('clean-result'),action:document.getElementById('clean-action'),days:document.getElementById('clean-days')},cleanPending=null;
function cleanShow(cls,text){qc.out.textContent='';var p=document.createElement('p');p.className=cls;p.textContent=text;qc.out.appendChild(p);}
function cleanReset(){cleanPending=null;qc.ok.hidden=true;qc.no.hidden=true;qc.dry.disabled=false;}
function cleanCall(body){return postJson(fetch('./api/queue/clean',jsonPost(body)));}
qc.dry.addEventListener('click',function(){
  cleanReset();qc.dry.disabled=true;var body={action:qc.action.value,dryRun:true};
  if(body.action==='purge_failed')body.days=Number(qc.days.value);
  cleanCall(body).then(function(s){cleanShow('',s.text);qc.dry.disabled=false;
    if(s.count>0){cleanPending=Object.assign({},body,{dryRun:false});qc.ok.textContent='Remove '+plural(s.count,'job','jobs');qc.ok.hidden=false;qc.no.hidden=false;qc.ok.focus();}
  }).catch(function(e){cleanShow('bad',e.message);qc.dry.disabled=false;});
});
qc.ok.addEventListener('click',function(){
  if(!cleanPending)return;var body=cleanPending;cleanReset();cleanShow('muted','Removing…');
  cleanCall(body).then(function(s){cleanShow('ok',s.text);}).catch(function(e){cleanShow('bad',e.message);});
});
qc.no.addEventListener('click',function(){cleanReset();cleanShow('muted','Cancelled: nothing was removed.');});
qc.action.addEventListener('change',function(){cleanReset();qc.out.textContent='';qc.days.disabled=qc.action.value!=='purge_failed';});
`;

/** Reconcile Library: a dry run first (it reads the whole library), then the confirmed real run. */
const RECONCILE_SCRIPT = `// Reconcile Library: a dry run first, then the confirmed real run.
var rc={dry:document.getElementById('reconcile-dry'),ok:document.getElementById('reconcile-confirm'),no:document.getElementById('reconcile-cancel'),
  out:document.getElementById('reconcile-result')};
function rcShow(cls,lines){rc.out.textContent='';lines.forEach(function(t,i){var p=document.createElement('p');p.className=i===lines.length-1?cls:'small muted';p.textContent=t;rc.out.appendChild(p);});}
function rcReset(){rc.ok.hidden=true;rc.no.hidden=true;rc.dry.disabled=false;}
function rcCall(body){return postJson(fetch('./api/reconcile',jsonPost(body)));}
rc.dry.addEventListener('click',function(){
  rcReset();rc.dry.disabled=true;rcShow('muted',['Reading every scene and its Plex item (dry run)…']);
  rcCall({dryRun:true}).then(function(r){rcShow('',r.lines);rc.dry.disabled=false;
    if(r.toQueue>0){rc.ok.textContent='Queue '+plural(r.toQueue,'scene','scenes');rc.ok.hidden=false;rc.no.hidden=false;rc.ok.focus();}
  }).catch(function(e){rcShow('bad',[e.message]);rc.dry.disabled=false;});
});
rc.ok.addEventListener('click',function(){
  rcReset();rc.dry.disabled=true;rcShow('muted',['Reconciling: reading the library again and queueing…']);
  rcCall({dryRun:false}).then(function(r){rcShow('ok',r.lines);}).catch(function(e){rcShow('bad',[e.message]);}).then(function(){rc.dry.disabled=false;});
});
rc.no.addEventListener('click',function(){rcReset();rcShow('muted',['Cancelled: nothing was queued.']);});
`;

/**
 * Restore: a dry run first, then the confirmed real run of that very request. "Sync again" buttons (in the
 * refreshed part, so handled by delegation) bring one restored scene back into sync.
 */
const RESTORE_SCRIPT = `// Restore: a dry run first, then the confirmed real run of the same scenes; "Sync again" resumes one scene.
var rs={dry:document.getElementById('restore-dry'),ok:document.getElementById('restore-confirm'),no:document.getElementById('restore-cancel'),
  out:document.getElementById('restore-result'),ids:document.getElementById('restore-scenes'),all:document.getElementById('restore-all')},rsPending=null;
function rsShow(cls,lines){rs.out.textContent='';lines.forEach(function(t,i){var p=document.createElement('p');p.className=i===lines.length-1?cls:'small muted';p.textContent=t;rs.out.appendChild(p);});}
function rsReset(){rsPending=null;rs.ok.hidden=true;rs.no.hidden=true;rs.dry.disabled=false;}
function rsCall(path,body){return postJson(fetch(path,jsonPost(body)));}
function rsScope(){if(rs.all.checked)return {all:true};var ids=rs.ids.value.split(/[\\s,]+/).filter(Boolean);return ids.length?{sceneIds:ids}:null;}
rs.dry.addEventListener('click',function(){
  rsReset();var scope=rsScope();if(!scope){rsShow('bad',['Name scene ids (12, 13) or tick "every scene".']);return;}
  rs.dry.disabled=true;rsShow('muted',['Reading what was kept and what Plex shows now (dry run)…']);
  rsCall('./api/restore',Object.assign({dryRun:true},scope)).then(function(r){rsShow('',r.lines);rs.dry.disabled=false;
    if(r.excluded>0){rsPending=Object.assign({dryRun:false},scope);rs.ok.textContent='Restore '+plural(r.excluded,'scene','scenes');rs.ok.hidden=false;rs.no.hidden=false;rs.ok.focus();}
  }).catch(function(e){rsShow('bad',[e.message]);rs.dry.disabled=false;});
});
rs.ok.addEventListener('click',function(){
  if(!rsPending)return;var body=rsPending;rsReset();rs.dry.disabled=true;rsShow('muted',['Restoring…']);
  rsCall('./api/restore',body).then(function(r){rsShow('ok',r.lines);}).catch(function(e){rsShow('bad',[e.message]);}).then(function(){rs.dry.disabled=false;});
});
rs.no.addEventListener('click',function(){rsReset();rsShow('muted',['Cancelled: nothing was restored.']);});
rs.ids.addEventListener('input',function(){if(rsPending){rsReset();rs.out.textContent='';}});
rs.all.addEventListener('change',function(){rs.ids.disabled=rs.all.checked;if(rsPending){rsReset();rs.out.textContent='';}});
document.addEventListener('click',function(ev){
  var b=ev.target&&ev.target.closest?ev.target.closest('button[data-resume]'):null;if(!b)return;
  b.disabled=true;b.textContent='queueing…';
  rsCall('./api/restore/resume',{sceneIds:[b.getAttribute('data-resume')],dryRun:false})
  .then(function(r){b.textContent=r.queued?'sync queued':'not excluded';})
  .catch(function(e){b.textContent='failed: '+e.message;b.disabled=false;});
});
`;

/**
 * A panel outside the refreshed part: its controls, then the dry run's result and a hidden confirm and
 * cancel (ids and test ids `<id>-result`, `<id>-confirm`, `<id>-cancel`, which the page script drives).
 */
function confirmPanel(id: string, title: string, intro: string, controls: string, confirmLabel: string): string {
  return (
    `<section class="recovery"><div class="card" data-testid="${id}-panel"><h2>${title}</h2>` +
    `<p class="small muted">${intro}</p>` +
    `<div class="row">${controls}</div>` +
    `<div id="${id}-result" data-testid="${id}-result" aria-live="polite"></div>` +
    `<div class="row"><button id="${id}-confirm" class="primary" type="button" data-testid="${id}-confirm" hidden>${confirmLabel}</button>` +
    `<button id="${id}-cancel" type="button" data-testid="${id}-cancel" hidden>Cancel</button></div>` +
    `</div></section>`
  );
}

/** Dead-letter recovery: the requeue of an outage window's failed jobs. */
function recoveryPanel(): string {
  return confirmPanel(
    'requeue',
    'Dead-letter recovery',
    `Jobs that still failed while Plex was down wait in the failed set. This moves the ones of an outage window back to the queue ` +
      `(a dry run first shows how many; nothing moves until you confirm). Same as <code>npm run requeue</code>.`,
    `<button id="requeue-dry" type="button" data-testid="requeue-dry">Recover failed outage jobs</button>` +
      `<label>from <select id="requeue-outage" data-testid="requeue-outage"><option value="latest">the latest outage</option><option value="all">all recorded outages</option></select></label>` +
      `<label><input type="checkbox" id="requeue-optional" data-testid="requeue-optional"> also PlexTemporaryError and PlexNotFound</label>`,
    'Requeue',
  );
}

/** Queue maintenance: a dry run, then a confirm. */
function maintenancePanel(): string {
  return confirmPanel(
    'clean',
    'Queue maintenance',
    `Failed jobs are kept <code>FAILED_KEEP_DAYS</code> days and at most <code>FAILED_KEEP_MAX</code> of them. ` +
      `Remove them sooner, or empty the pending queue (running jobs finish). A dry run first shows how many; nothing is removed until you confirm. Same as the Stash tasks.`,
    `<label>Action <select id="clean-action" data-testid="clean-action"><option value="clear_failed">Clear failed jobs</option>` +
      `<option value="purge_failed">Purge failed jobs older than</option><option value="clear_pending">Clear pending queue</option></select></label>` +
      `<label><input id="clean-days" data-testid="clean-days" type="number" min="0" step="1" value="30" disabled> days</label>` +
      `<button id="clean-dry" type="button" data-testid="clean-dry">Dry run</button>`,
    'Remove',
  );
}

/** Reconcile Library: a dry run, then a confirm. */
function reconcilePanel(): string {
  return confirmPanel(
    'reconcile',
    'Reconcile Library',
    `Reads every Stash scene and its Plex item and finds the gaps: scenes not in Plex, items with no synced field set, ` +
      `fields changed in Plex since stash2plex set them, scenes never synced. The dry run shows them; confirm to queue the scenes a sync would fix ` +
      `(bulk priority). Same as <code>npm run reconcile</code> and the Stash task. It reads the whole library: minutes for a very large one.`,
    `<button id="reconcile-dry" type="button" data-testid="reconcile-dry">Dry run</button>`,
    'Queue',
  );
}

/** Restore: scene ids or every scene, a dry run, then a confirm. */
function restorePanel(): string {
  return confirmPanel(
    'restore',
    'Restore Plex metadata',
    `Puts back what Plex had before stash2plex first wrote to these scenes' items (values, locks, the poster it had selected), ` +
      `leaves fields someone changed in Plex since, and keeps the scenes out of sync until you press “Sync again”. ` +
      `The dry run shows it field by field; nothing changes until you confirm. Same as <code>npm run restore</code> and the Stash task.`,
    `<label>Scenes <input type="text" id="restore-scenes" data-testid="restore-scenes" placeholder="12, 13" inputmode="numeric"></label>` +
      `<label><input type="checkbox" id="restore-all" data-testid="restore-all"> every scene with kept originals</label>` +
      `<button id="restore-dry" type="button" data-testid="restore-dry">Dry run</button>`,
    'Restore',
  );
}

/** The whole page (first load). */
export function renderStatusPage(s: StatusJson, ctx: PageContext): string {
  const nonce = esc(ctx.nonce);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(`${s.breaker.state === 'CLOSED' ? '●' : '▲'} ${s.breaker.state} — stash2plex`)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${CSS}</style></head>
<body>
<header><div class="bar"><h1>stash2plex</h1><span id="refresh-state" class="refresh" data-testid="refresh-state">live</span>
<nav><button id="probe-now" type="button" data-testid="probe-now">Check Plex now</button><span id="probe-result" data-testid="probe-result" aria-live="polite"></span>
<a href="queues">Bull Board</a><a href="api/status">API</a><a href="metrics">Metrics</a></nav></div></header>
<main id="status-main">${renderStatusMain(s, ctx)}</main>
${recoveryPanel()}
${maintenancePanel()}
${reconcilePanel()}
${restorePanel()}
<script nonce="${nonce}">${script(ctx.refreshMs ?? REFRESH_MS)}</script>
</body></html>`;
}
