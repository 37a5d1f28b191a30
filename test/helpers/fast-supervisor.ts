// Settings that make a supervisor react within a second or two (the defaults are sized for a real Plex),
// for tests that run a real supervisor through an outage.
export const FAST_SUPERVISOR: Record<string, string> = {
  SYNC_POSTER: 'false',
  BREAKER_FAILURE_THRESHOLD: '3',
  BREAKER_RECOVERY_TIMEOUT_MS: '500',
  HEALTH_TIMEOUT_MS: '500',
  HEALTH_INTERVAL_MS: '250',
  HEALTH_MAX_INTERVAL_MS: '1000',
  HEALTH_CLOSED_INTERVAL_MS: '300',
  RAMP_INITIAL_RATE: '5',
  RAMP_TARGET_RATE: '20',
  RAMP_DURATION_MS: '3000',
  RECONCILE_INTERVAL_MS: '0',
};
