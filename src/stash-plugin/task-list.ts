// The plugin's tasks, the one list: the manifest's task entries (./manifest.ts) and the modes the plugin
// process accepts (./plugin-process.ts) come from it, and ./tasks.ts has a handler for each.

export interface PluginTaskDef {
  /** Shown in Stash's Tasks page. */
  name: string;
  description: string;
  /** `args.mode` the task runs with. */
  mode: string;
  /** Further defaultArgs (values arrive as strings). */
  args?: Record<string, string>;
}

/**
 * Every task of the plugin, in the order Stash shows them. Stash's Tasks page passes a task's
 * defaultArgs and nothing else, so a choice is a task of its own (Purge Failed Jobs: 7 or 30 days),
 * never an argument the user is told to set. Add a task here (and its handler in
 * src/stash-plugin/tasks.ts, which the type system then demands): the build writes the manifest from
 * this list.
 */
export const PLUGIN_TASKS = [
  {
    name: 'Sync All Scenes',
    description: 'Queue every Stash scene for a sync to Plex (bulk priority: fresh edits still go first).',
    mode: 'sync_all',
  },
  {
    name: 'Sync Recent Scenes',
    description: 'Queue the scenes changed in the last 24 hours for a sync to Plex.',
    mode: 'sync_recent',
    args: { hours: '24' },
  },
  {
    name: 'Health Check',
    description:
      "Is Plex up (a direct probe: by the plugin with PLEX_URL in its .env, else by the stash2plex dashboard with STASH2PLEX_URL and HOOK_TOKEN; else the supervisor's last probe), the breaker state and the queue size.",
    mode: 'health_check',
  },
  {
    name: 'Queue Status',
    description: 'Queue counts, failed jobs by error type, the breaker and the recovery ramp, and the last 3 outages.',
    mode: 'queue_status',
  },
  {
    name: 'Outage Summary',
    description:
      'Plex outages recorded by the supervisor: count, total downtime, MTTR, MTBF, availability, detection delay and the last 10.',
    mode: 'outage_summary',
  },
  {
    name: 'Recover Outage Jobs (dry run)',
    description:
      'Shows which failed jobs of the latest outage (PlexServerDown) Recover Outage Jobs would move back to the queue. Moves nothing.',
    mode: 'recover_dry_run',
    args: { outage: 'latest' },
  },
  {
    name: 'Recover Outage Jobs',
    description: 'Moves the failed jobs of the latest outage (PlexServerDown) back to the queue; refused while the breaker is not CLOSED.',
    mode: 'recover',
    args: { outage: 'latest' },
  },
  {
    name: 'Reconcile Outage Windows',
    description:
      'Queues the scenes Stash changed during each recorded outage for a sync to Plex (bulk priority: fresh edits still go first).',
    mode: 'reconcile_outages',
  },
  {
    name: 'Reconcile Library (dry run)',
    description:
      'Reads every scene and its Plex item and reports the gaps: not in Plex, in Plex with no synced field set, drifted in Plex, never synced. Queues nothing. Needs PLEX_URL and PLEX_TOKEN in the plugin .env, or STASH2PLEX_URL and HOOK_TOKEN there (the stash2plex dashboard runs it).',
    mode: 'reconcile_library_dry_run',
  },
  {
    name: 'Reconcile Library',
    description:
      'Reports the gaps as the dry run does, then queues the scenes a sync would fix (bulk priority). Needs PLEX_URL and PLEX_TOKEN in the plugin .env, or STASH2PLEX_URL and HOOK_TOKEN there (the stash2plex dashboard runs it).',
    mode: 'reconcile_library',
  },
  {
    name: 'Restore Plex Metadata (dry run)',
    description:
      'Shows what Restore Plex Metadata would put back: for every scene whose Plex item stash2plex wrote to, and every collection, the values and locks Plex had before. Changes nothing. Needs PLEX_URL and PLEX_TOKEN in the plugin .env, or STASH2PLEX_URL and HOOK_TOKEN there (the stash2plex dashboard runs it).',
    mode: 'restore_dry_run',
  },
  {
    name: 'Restore Plex Metadata',
    description:
      'Puts back what Plex had before stash2plex wrote to it, for every scene it wrote to and every collection (a task takes no scene list: npm run restore -- --scene ID restores one), leaves fields changed in Plex since, and keeps those scenes out of sync until resumed. Run the dry run first. Needs PLEX_URL and PLEX_TOKEN in the plugin .env (else use the status page).',
    mode: 'restore',
  },
  {
    name: 'Explain Scene',
    description:
      'Explains what the next sync of one scene would do, and why: requirements (SYNC_REQUIRE), paths tried (PATH_MAP), every Plex item looked at, the match, and per field the Stash and Plex values, lock, ownership and action. Changes nothing. The scene: the plugin setting "Scene to explain" (save it, then run this task). Needs PLEX_URL and PLEX_TOKEN in the plugin .env, or STASH2PLEX_URL and HOOK_TOKEN there (the stash2plex dashboard runs it).',
    mode: 'explain_scene',
  },
  {
    name: 'Clear Failed Jobs (dry run)',
    description: 'Counts the failed sync jobs Clear Failed Jobs would remove. Removes nothing.',
    mode: 'clear_failed_dry_run',
  },
  {
    name: 'Clear Failed Jobs',
    description: 'Removes every failed sync job (the dead-letter queue): they can no longer be recovered.',
    mode: 'clear_failed',
  },
  {
    name: 'Purge Failed Jobs Older Than 7 Days (dry run)',
    description: 'Counts the failed sync jobs that failed more than 7 days ago. Removes nothing.',
    mode: 'purge_failed_dry_run',
    args: { days: '7' },
  },
  {
    name: 'Purge Failed Jobs Older Than 7 Days',
    description: 'Removes the failed sync jobs that failed more than 7 days ago.',
    mode: 'purge_failed',
    args: { days: '7' },
  },
  {
    name: 'Purge Failed Jobs Older Than 30 Days (dry run)',
    description: 'Counts the failed sync jobs that failed more than 30 days ago. Removes nothing.',
    mode: 'purge_failed_dry_run',
    args: { days: '30' },
  },
  {
    name: 'Purge Failed Jobs Older Than 30 Days',
    description: 'Removes the failed sync jobs that failed more than 30 days ago.',
    mode: 'purge_failed',
    args: { days: '30' },
  },
  {
    name: 'Clear Pending Queue (dry run)',
    description: 'Counts the waiting and delayed sync jobs Clear Pending Queue would remove. Removes nothing.',
    mode: 'clear_pending_dry_run',
  },
  {
    name: 'Clear Pending Queue',
    description:
      'Removes the waiting and delayed sync jobs (running ones finish); their scenes sync again on their next edit or reconciliation.',
    mode: 'clear_pending',
  },
] as const satisfies readonly PluginTaskDef[];
/** The plugin setting naming the scene the task Explain Scene explains (Stash's task page passes no arguments). */
export const EXPLAIN_SCENE_SETTING = 'explainSceneId';

export type TaskMode = (typeof PLUGIN_TASKS)[number]['mode'];

export function isTaskMode(mode: string): mode is TaskMode {
  return PLUGIN_TASKS.some((t) => t.mode === mode);
}
