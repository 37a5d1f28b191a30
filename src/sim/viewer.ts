// A person browsing a simulated server while stash2plex syncs: one request to VIEWER_PATH at a time,
// a pause between them, each one's latency kept. What issue 25's target is stated in (a viewer's p95).
import { VIEWER_PATH } from './sim-server.js';

export interface Viewer {
  /** Latencies so far (ms), in order. */
  readonly latencies: number[];
  /** Stops after the request under way; resolves with every latency. */
  stop(): Promise<number[]>;
}

/** Starts a viewer of the server at `url`: a request, then `pauseMs`, then the next. */
export function startViewer(url: string, opts: { pauseMs?: number } = {}): Viewer {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sent = performance.now();
      const res = await fetch(`${url}${VIEWER_PATH}`).catch(() => null);
      await res?.arrayBuffer().catch(() => undefined);
      if (res?.ok) latencies.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 25));
    }
  })();
  return {
    latencies,
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

/** `count` requests of a viewer on an idle server: its idle latencies. */
export async function idleLatencies(url: string, count = 40): Promise<number[]> {
  const viewer = startViewer(url, { pauseMs: 5 });
  while (viewer.latencies.length < count) await new Promise((r) => setTimeout(r, 20));
  return viewer.stop();
}
