// The fault-injection server machinery the simulators share: a real HTTP server on 127.0.0.1 whose
// listening socket really closes in mode 'down' (connection refused) and reopens on the same port in any
// other mode, plus a latency knob and timers that stop() can cancel. What a mode means beyond up/down
// (503, 401, …) and how requests are answered is the subclass's business, through onRequest.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The server model of a busy home server: `slots` requests served at once, each for `serviceMs`, the
 * others queued first in, first out, so latency grows with load as a real server's does.
 */
export interface ServerModel {
  slots: number;
  serviceMs: number;
}

/**
 * A "viewer": a person browsing the server (Plex Web, Stash's UI) while stash2plex syncs. It waits in the
 * same queue and is served like any request (one service time), but is never recorded among the requests.
 */
export const VIEWER_PATH = '/__sim/viewer';

export abstract class SimServer<Mode extends string> {
  private readonly server: Server;
  private portNumber = 0;
  /** Protected so handlers can act on their own modes (e.g. answer 503). */
  protected mode: Mode;
  protected latencyMs = 0;
  private parallel = Infinity;
  private serving = 0;
  private readonly turns: (() => void)[] = [];
  private stopped = false;
  /** Mode changes chained, so socket closes and reopens never overlap. */
  private transition: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Slot time spent serving since busySince (ms), for busyFraction(). */
  private busyMs = 0;
  private busySince = performance.now();
  /** Each viewer request's queueing since busySince, in service times (viewerQueueing()). */
  private viewerWaits: number[] = [];

  /**
   * `maxHeaderSize`: the most request line and headers the HTTP parser takes (Node's default, 16 KiB, when
   * absent); `model`: the server model from the start (setServerModel).
   */
  protected constructor(initialMode: Mode, opts: { maxHeaderSize?: number; model?: ServerModel } = {}) {
    this.mode = initialMode;
    if (opts.model) this.setServerModel(opts.model);
    // A closure, not a bound reference: subclasses define onRequest, and it is only called once listening.
    this.server = createServer(
      opts.maxHeaderSize ? { maxHeaderSize: opts.maxHeaderSize } : {},
      (req, res) => void (req.url === VIEWER_PATH ? this.serveViewer(res) : this.onRequest(req, res)),
    );
    this.server.keepAliveTimeout = 5_000;
  }

  /** Answers one request; should check isDown() (again after any wait) and drop the socket if so. */
  protected abstract onRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /**
   * The mode applies at once; the returned promise resolves when the socket state matches it ('down':
   * listening socket and every connection closed; anything else: listening again on the same port).
   */
  setMode(mode: Mode): Promise<void> {
    this.mode = mode;
    const next = this.transition.then(() => this.applyListening());
    // A failed transition must not wedge the ones after it; the caller still sees the failure.
    this.transition = next.catch(() => undefined);
    return next;
  }

  getMode(): Mode {
    return this.mode;
  }

  /**
   * Delay before every answer (a slow or overloaded server). With `parallel`, at most that many requests
   * are served at once and the others wait their turn: a server whose own time is the limit (a Plex on a
   * NAS with few cores), not only its distance.
   */
  setLatencyMs(ms: number, parallel = Infinity): void {
    this.latencyMs = Math.max(0, ms);
    this.parallel = Math.max(1, parallel);
  }

  /** The server model (ServerModel): setLatencyMs(serviceMs, slots). */
  setServerModel(model: ServerModel): void {
    this.setLatencyMs(model.serviceMs, model.slots);
  }

  /**
   * The share of the slots' time spent serving since the last resetBusy() (0–1): Plex's busy %. Only with
   * a finite number of slots (setServerModel); NaN otherwise.
   */
  busyFraction(now = performance.now()): number {
    const elapsed = now - this.busySince;
    return Number.isFinite(this.parallel) && elapsed > 0 ? this.busyMs / (this.parallel * elapsed) : NaN;
  }

  /** Starts the window of busyFraction() and viewerQueueing() afresh. */
  resetBusy(): void {
    this.busyMs = 0;
    this.busySince = performance.now();
    this.viewerWaits = [];
  }

  /**
   * Each viewer request's wait for a slot as the model makes it, in service times: 0 when a slot was free,
   * else (the requests queued ahead + 1) ÷ slots, the slot releases it waits for. Unlike a stopwatch, it
   * does not grow when the machine running the simulator is busy, so a test on a loaded machine can judge
   * the queue a client builds (a viewer's latency ≈ (1 + this) × serviceMs).
   */
  viewerQueueing(): number[] {
    return [...this.viewerWaits];
  }

  /** The latency of one request, waiting first for a free slot when `parallel` is set (FIFO). */
  protected async delay(): Promise<void> {
    if (this.latencyMs <= 0) return;
    // FIFO: a newcomer queues behind those already waiting, even when a slot has just freed.
    if (this.serving >= this.parallel || this.turns.length > 0) await new Promise<void>((resolve) => this.turns.push(resolve));
    else this.serving++;
    const started = performance.now();
    try {
      await this.sleep(this.latencyMs);
    } finally {
      this.busyMs += performance.now() - started;
      this.serving--;
      // The slot goes straight to the next in line (counted here, so nobody overtakes it meanwhile).
      const next = this.turns.shift();
      if (next) {
        this.serving++;
        next();
      }
    }
  }

  /** The viewer's request (VIEWER_PATH): queued and served like any other, then a small page. */
  private async serveViewer(res: ServerResponse): Promise<void> {
    if (this.isDown()) {
      res.destroy();
      return;
    }
    if (Number.isFinite(this.parallel) && this.latencyMs > 0) {
      const queued = this.serving >= this.parallel || this.turns.length > 0;
      this.viewerWaits.push(queued ? (this.turns.length + 1) / this.parallel : 0);
    }
    await this.delay();
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.transition;
    if (this.server.listening) await this.close();
  }

  /** Protected for the subclasses' static start(), which picks the first port. */
  protected listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        this.portNumber = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  protected isDown(): boolean {
    return this.mode === 'down' || this.stopped;
  }

  /** A wait that stop() cancels, so a stopped simulator leaves no timers behind. */
  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async applyListening(): Promise<void> {
    if (this.stopped) return;
    const wantUp = this.mode !== 'down';
    // Reuse the port the first listen() got, so clients configured with the URL reconnect.
    if (wantUp && !this.server.listening) await this.listen(this.portNumber);
    if (!wantUp && this.server.listening) await this.close();
  }

  private close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Keep-alive and in-flight connections too: a down server answers nothing.
      this.server.closeAllConnections();
    });
  }
}
