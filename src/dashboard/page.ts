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
import { CONFIRM_FLOWS_SCRIPT } from './confirm-flows.js';
import { EXPLAIN_CSS, EXPLAIN_SCRIPT, explainPanel } from './explain-panel.js';
import { LAYOUT_CSS, THEME_CSS } from './page-theme.js';
import type { Headline } from './headline.js';
import { settingsPanelBody } from './settings-panel.js';

export interface PageContext {
  now: number;
  /** Settings the page explains itself with (none of them secret). */
  settings: {
    ramp: { initialRate: number; targetRate: number; durationMs: number };
    plexMaxRate: number | null;
    /** BREAKER_TRIAL_CALLS and BREAKER_TRIAL_ERROR_RATE: how HALF_OPEN is judged. */
    trial: { calls: number; errorRate: number };
  };
  /** CSP nonce of the inline style and script. */
  nonce: string;
  timeZone?: string;
  /** Refresh period of the page script, ms. */
  refreshMs?: number;
  /** The worst current problem and what recovers it (./headline.ts); none: no headline shown. */
  headline?: Headline;
}

export const REFRESH_MS = 2_000;

/** A future time as "in 3s" ("now" when due or past). */
function formatIn(at: number, now: number): string {
  const d = at - now;
  return d < 1000 ? 'now' : `in ${formatDuration(d)}`;
}

const STATE_TEXT = {
  CLOSED: 'Plex is up: jobs flow normally.',
  /** CLOSED, but the last probe did not answer: said as it is, before the breaker opens. */
  CLOSED_PROBE_FAILED: 'The last probe of Plex failed: jobs wait (none fails); the breaker opens if it goes on.',
  CLOSED_UNPROBED: 'Plex has not been probed yet.',
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

/** The breaker's sentence: "Plex is up" only when the last probe answered. */
function stateText(s: StatusJson): string {
  const state = s.breaker.state;
  if (state !== 'CLOSED') return STATE_TEXT[state];
  if (s.recovery.active) return RECOVERING_TEXT;
  if (s.health.ok === false) return STATE_TEXT.CLOSED_PROBE_FAILED;
  return s.health.ok === true ? STATE_TEXT.CLOSED : STATE_TEXT.CLOSED_UNPROBED;
}

/** Stash as the supervisor's checks found it: reachable, the key accepted, its version, the last error. */
function stashCard(s: StatusJson, now: number, tz?: string): string {
  const st = s.health.stash;
  if (!st.checked) {
    return card(
      'stash-card',
      'Stash health',
      '<p class="muted" data-testid="stash-unchecked">Not checked: no supervisor with STASH_URL has looked at Stash yet.</p>',
    );
  }
  const yesNo = (v: boolean | null, yes: string, no: string) =>
    v === null ? '<span class="muted">unknown</span>' : v ? `<span class="ok">${yes}</span>` : `<span class="bad">${no}</span>`;
  const rows: [string, string, string?][] = [
    ['Reachable', yesNo(st.reachable, 'yes', 'no'), 'stash-reachable'],
    ['API key', yesNo(st.keyAccepted, 'accepted', 'rejected'), 'stash-key'],
    ['Version', st.version ? esc(st.version) : '<span class="muted">not read</span>', 'stash-version'],
    [
      'Checked',
      st.checkedAt === null ? '—' : `<time title="${esc(formatDateTime(st.checkedAt, tz))}">${esc(formatAgo(st.checkedAt, now))}</time>`,
      'stash-checked',
    ],
  ];
  const error = st.lastError ? `<p class="alert" data-testid="stash-error">${esc(st.lastError)}</p>` : '';
  return card('stash-card', 'Stash health', dl(rows) + error);
}

/** The headline: the worst problem now and the one thing that recovers it. */
function headlineBlock(h: Headline | undefined): string {
  if (!h) return '';
  const a = h.action;
  const how = a
    ? `<p class="small" data-testid="headline-action">${esc(a.label)}` +
      (a.setting ? ` <code>${esc(a.setting)}</code>` : '') +
      (a.command ? `: <code data-testid="headline-command">${esc(a.command)}</code>` : '') +
      (a.buttonId ? ` <a href="#${esc(a.buttonId)}" data-testid="headline-button">(the button)</a>` : '') +
      `</p>`
    : '';
  return `<section class="card wide headline headline-${h.level}" data-testid="headline" data-level="${h.level}"><p class="big" data-testid="headline-text">${esc(h.text)}</p>${how}</section>`;
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
    const t = s.breaker.trial;
    const progress = t
      ? `<p class="small" data-testid="trial-progress">${t.calls} of ${settings.trial.calls} trial calls so far, ${t.failures} failed.</p>`
      : '';
    body = `<p class="big" data-testid="ramp-rate">Trial: ${esc(formatRate(1))}</p>${progress}<p class="small muted">${settings.trial.calls} trial ${settings.trial.calls === 1 ? 'call' : 'calls'} with under ${Math.round(settings.trial.errorRate * 100)}&#8239;% errors close the breaker; more errors re-open it. Then the ramp starts at ${esc(formatRate(settings.ramp.initialRate))}.</p>`;
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

const ms = (n: number | null) => (n === null ? '—' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`);

/** The workers' adaptive concurrency limiters: limit, requests out and waiting, latency against the server's unloaded latency. */
function concurrencySection(s: StatusJson): string {
  const rows = (s.concurrency ?? []).flatMap((w) =>
    w.limiters.map(
      (l) =>
        `<tr data-testid="limiter-${esc(l.target)}"><td>${esc(w.worker)}</td><td>${l.target === 'plex' ? 'Plex' : 'Stash'}</td>` +
        `<td data-testid="limiter-limit">${l.limit} <span class="muted">of ${l.ceiling}${l.adaptive ? '' : ' (fixed)'}</span></td>` +
        `<td>${l.inFlight}</td><td>${l.waiting}</td>` +
        `<td>${ms(l.latencyMs)} <span class="muted">vs ${ms(l.baselineMs)}${l.latencyMs !== null && l.baselineMs ? ` (${(l.latencyMs / l.baselineMs).toFixed(2)} ×)` : ''}</span></td></tr>`,
    ),
  );
  const table = rows.length
    ? `<div class="table-wrap"><table data-testid="limiter-table"><thead><tr><th>Worker</th><th>Server</th><th>Limit</th><th>In flight</th><th>Waiting</th><th>Latency vs unloaded</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
    : '<p class="muted" data-testid="limiter-table-empty">No worker is running.</p>';
  return (
    `<section class="card wide" data-testid="concurrency"><h2>Requests at once</h2>` +
    `<p class="small muted">Each worker keeps Plex's and Stash's latency near their unloaded level: it sends more requests at once while the latency stays near it, fewer when it rises (at most WORKER_CONCURRENCY). During a recovery the ramp's rate applies too: the lower of the two wins.</p>` +
    table +
    `</section>`
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
  const f = s.reconcile?.lastFailure ?? null;
  // A run that failed after the last report: say so first, so the older report is not read as this run's.
  const failedAfter = f && (!r || f.failedAt > r.finishedAt);
  const failure = failedAfter
    ? `<p class="alert" data-testid="reconcile-failed">The last ${f.dryRun ? 'dry run' : 'run'} failed <time title="${esc(formatDateTime(f.failedAt, ctx.timeZone))}">${esc(formatAgo(f.failedAt, ctx.now))}</time>: ${esc(f.error)}${r ? ' The report below is from an earlier run, not this one.' : ''}</p>`
    : '';
  if (!r && failure) return card('reconcile-card', 'Reconcile Library: last report', failure, 'wide');
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
    failure +
      `<p class="small">${failedAfter ? 'Earlier run' : 'Last run'}${r.dryRun ? ' (dry run)' : ''} <time title="${esc(formatDateTime(r.finishedAt, ctx.timeZone))}">${esc(formatAgo(r.finishedAt, ctx.now))}</time>: ` +
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
export function renderStatusMain(statusJson: StatusJson, ctx: PageContext): string {
  const state = statusJson.breaker.state;
  const hero =
    `<section class="hero state-${state}" data-testid="breaker" data-state="${state}">` +
    `<span class="badge badge-${state}" data-testid="breaker-badge" data-state="${state}">${state}</span>` +
    `<div><p class="held" data-testid="breaker-held">${esc(breakerHeld(statusJson, ctx.now))}</p>` +
    `<p class="summary" data-testid="breaker-summary">${esc(stateText(statusJson))}` +
    (statusJson.breaker.consecutiveFailures > 0 && state === 'CLOSED'
      ? ` <strong>${statusJson.breaker.consecutiveFailures} outage-class ${statusJson.breaker.consecutiveFailures === 1 ? 'failure' : 'failures'} in a row.</strong>`
      : '') +
    (statusJson.outages.current
      ? ` Outage started ${esc(formatAgo(statusJson.outages.current.startedAt, ctx.now))}${statusJson.outages.current.firstError ? ` — first error: <span class="err">${esc(statusJson.outages.current.firstError)}</span>` : ''}.`
      : '') +
    `</p></div>${supervisorBlock(statusJson)}</section>`;
  const cards =
    `<div class="grid">` +
    healthCard(statusJson, ctx.now, ctx.timeZone) +
    stashCard(statusJson, ctx.now, ctx.timeZone) +
    rampCard(statusJson, ctx) +
    Object.entries(statusJson.queues)
      .map(([name, q]) => queueCard(name, q, name === SYNC_QUEUE ? statusJson.sync.skipped : null))
      .join('') +
    `</div>`;
  return `<div id="status-data" hidden data-state="${state}" data-title="${esc(`${state === 'CLOSED' ? '●' : '▲'} ${state} — stash2plex`)}"></div>${headlineBlock(ctx.headline)}${hero}${cards}${concurrencySection(statusJson)}${excludedSection(statusJson, ctx)}${reconcileSection(statusJson, ctx)}${metricsSection(statusJson)}${outagesSection(statusJson, ctx)}${card('settings-card', 'Settings from Stash', settingsPanelBody(statusJson.settings, ctx.now), 'wide')}`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:var(--card);border-bottom:1px solid var(--border)}
.bar{max-width:1120px;margin:0 auto;padding:12px 24px;display:flex;align-items:center;gap:16px;flex-wrap:wrap}
.bar h1{font-size:18px;margin:0;font-weight:650;letter-spacing:-.01em}
.bar nav{display:flex;gap:14px;margin-left:auto;align-items:center}
.bar a{color:var(--link);text-decoration:none}.bar a:hover{text-decoration:underline}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
.hero{display:flex;align-items:center;gap:18px;background:var(--card);border:1px solid var(--border);border-left:6px solid var(--closed);border-radius:10px;padding:16px 20px;margin-bottom:18px}
.hero.state-OPEN{border-left-color:var(--open);background:var(--hero-open)}.hero.state-HALF_OPEN{border-left-color:#f59e0b;background:var(--hero-half)}
.hero p{margin:0}.held{font-size:20px;font-weight:600}.summary{color:var(--fg2)}
.badge{display:inline-block;min-width:120px;text-align:center;padding:8px 14px;border-radius:999px;font-weight:700;letter-spacing:.04em;font-size:15px}
.badge-CLOSED{background:var(--closed);color:#fff}.badge-OPEN{background:var(--open);color:#fff}.badge-HALF_OPEN{background:#f59e0b;color:#1f2937}
.grid{display:grid;grid-template-columns:minmax(0,1fr);gap:16px;margin-bottom:16px}
@media (min-width:900px){.grid{grid-template-columns:minmax(0,1fr) minmax(0,1fr) minmax(0,1.4fr)}}
.hero>div:nth-child(2){flex:1}.sup{text-align:right;line-height:1.9;min-width:200px}
.nowrap{white-space:nowrap}
.card{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:16px 18px}
.card.wide{margin-bottom:16px}
.card h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 10px;font-weight:650}
.card.ramp-active{border-color:#f59e0b;box-shadow:0 0 0 1px var(--ramp-ring) inset}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 14px;margin:0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.big{font-size:22px;font-weight:650;margin:0 0 8px}
.small{font-size:13px}.muted{color:var(--muted);font-weight:400}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.err{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;color:var(--err)}
.alert{background:var(--alert-bg);border:1px solid var(--alert-border);color:var(--alert-fg);padding:8px 10px;border-radius:6px;margin:10px 0 0}
.headline p{margin:0 0 4px}.headline .big{font-size:18px}.headline-error{border-left:6px solid var(--bad)}.headline-warn{border-left:6px solid #b45309}.headline-info{border-left:6px solid #1d4ed8}.headline-ok{border-left:6px solid var(--ok)}
progress{width:100%;height:14px;appearance:none;-webkit-appearance:none;border:none;border-radius:7px;background:var(--border);overflow:hidden}
progress::-webkit-progress-bar{background:var(--border);border-radius:7px}
progress::-webkit-progress-value{background:linear-gradient(90deg,#f59e0b,#16a34a);border-radius:7px}
progress::-moz-progress-bar{background:linear-gradient(90deg,#f59e0b,#16a34a);border-radius:7px}
.chip{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12.5px;font-weight:600}
.chip-ok{background:var(--chip-ok-bg);color:var(--chip-ok)}.chip-bad{background:var(--chip-bad-bg);color:var(--chip-bad)}.chip-warn{background:var(--chip-warn-bg);color:var(--chip-warn)}
.counts{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:6px;margin:10px 0}
.count{background:var(--count-bg);border:1px solid var(--line);border-radius:8px;padding:6px 4px;text-align:center}
.count .n{display:block;font-size:19px;font-weight:650;font-variant-numeric:tabular-nums}.count .k{font-size:11.5px;color:var(--muted)}
.count-bad .n{color:var(--bad)}
.counts-4{grid-template-columns:repeat(4,minmax(0,1fr))}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.metric{display:flex;flex-direction:column;padding:6px 0}.metric .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.metric .k{font-weight:600;font-size:13px}.metric .hint{font-size:12px;color:var(--muted)}
.chart{margin:4px 0 12px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:650}
td.num{font-variant-numeric:tabular-nums}
tr.ongoing td{background:var(--hero-open)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;background:var(--code-bg);color:var(--fg);padding:1px 5px;border-radius:4px}
button{font:inherit;font-size:14px;padding:6px 12px;border-radius:6px;border:1px solid var(--control-border);background:var(--control-bg);color:var(--fg);cursor:pointer}
button:hover{background:var(--hover)}button:disabled{opacity:.6;cursor:progress}
#probe-result{font-size:13px;max-width:380px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.refresh{font-size:12.5px;color:var(--muted)}.refresh.stale{color:var(--bad);font-weight:600}
.recovery{max-width:1120px;margin:-24px auto 0;padding:0 24px 40px}
.recovery .row{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0}
.recovery label{font-size:13.5px;color:var(--fg2)}
.recovery select{font:inherit;font-size:13.5px;padding:4px 6px;border-radius:6px;border:1px solid var(--control-border);background:var(--control-bg);color:var(--fg)}
#requeue-result{margin:8px 0 0;font-size:14px}#requeue-result:empty{display:none}
#reconcile-result p{margin:2px 0}#reconcile-result:empty{display:none}
#restore-result p{margin:2px 0}#restore-result:empty{display:none}
table.settings{border-collapse:collapse;width:100%;font-size:13.5px}table.settings th,table.settings td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}.table-scroll{overflow-x:auto}
ul.excluded{list-style:none;margin:8px 0 0;padding:0}ul.excluded li{padding:4px 0;border-bottom:1px solid var(--line)}ul.excluded button{font-size:12.5px;padding:2px 8px;margin-left:6px}
.recovery input[type=text]{font:inherit;font-size:13.5px;padding:4px 6px;border-radius:6px;border:1px solid var(--control-border);background:var(--control-bg);color:var(--fg);width:14em;max-width:100%}
#requeue-result .big{font-size:18px;margin:0 0 4px}
button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}button.primary:hover{background:#1e40af}
`;

// The page's script, plain ES2017 with no dependencies, in one closure made of three parts.
function script(refreshMs: number): string {
  return `(function(){\n${liveScript(refreshMs)}${POST_JSON_SCRIPT}${CONFIRM_FLOWS_SCRIPT}${EXPLAIN_SCRIPT}})();`;
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
export function renderStatusPage(statusJson: StatusJson, ctx: PageContext): string {
  const nonce = esc(ctx.nonce);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(`${statusJson.breaker.state === 'CLOSED' ? '●' : '▲'} ${statusJson.breaker.state} — stash2plex`)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${THEME_CSS}${CSS}${EXPLAIN_CSS}${LAYOUT_CSS}</style></head>
<body>
<header><div class="bar"><h1>stash2plex</h1><span id="refresh-state" class="refresh" data-testid="refresh-state">live</span>
<nav><button id="probe-now" type="button" data-testid="probe-now">Check Plex now</button><span id="probe-result" data-testid="probe-result" aria-live="polite"></span>
<a href="queues">Bull Board</a><a href="api/status">API</a><a href="metrics">Metrics</a></nav></div></header>
<main id="status-main">${renderStatusMain(statusJson, ctx)}</main>
${recoveryPanel()}
${maintenancePanel()}
${reconcilePanel()}
${restorePanel()}
${explainPanel()}
<script nonce="${nonce}">${script(ctx.refreshMs ?? REFRESH_MS)}</script>
</body></html>`;
}
