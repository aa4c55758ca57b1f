// A keyed work queue like client-go's: a key waiting or running is not added twice (a key added while
// running runs again afterwards), a few keys run at once, and a failure is retried with exponential
// backoff up to a limit.

export interface WorkQueueOptions {
  concurrency: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  onDrop(key: string, err: unknown): void;
}

export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    private readonly opts: WorkQueueOptions,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.pump();
  }

  /** Resolves when nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.length = 0;
    this.queued.clear();
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.running.size === 0 && this.timers.size === 0;
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.opts.concurrency && this.pending.length > 0) {
      const key = this.pending.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      void this.run(key);
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handle(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      if (n > this.opts.maxRetries) {
        this.failures.delete(key);
        this.opts.onDrop(key, err);
      } else {
        this.failures.set(key, n);
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.add(key);
        }, Math.min(this.opts.baseDelayMs * 2 ** (n - 1), this.opts.maxDelayMs));
        this.timers.add(t);
      }
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
