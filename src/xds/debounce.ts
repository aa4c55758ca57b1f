// istiod's debounce: changes are merged until the config has been quiet for `quietMs` or `maxMs` has
// passed since the first one; only one flush runs at a time, and changes arriving during a flush go
// into the next one.
export interface DebounceOptions {
  quietMs: number;
  maxMs: number;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Debouncer<T> {
  private pending: T[] = [];
  private first = 0;
  private last = 0;
  private timer: unknown;
  private busy = false;

  constructor(
    private readonly opts: DebounceOptions,
    /** Receives the merged events and the time the first of them arrived. */
    private readonly flush: (events: T[], firstAt: number) => void | Promise<void>,
    private readonly clock: Clock = realClock,
  ) {}

  trigger(event: T): void {
    const now = this.clock.now();
    if (this.pending.length === 0) this.first = now;
    this.last = now;
    this.pending.push(event);
    if (this.timer === undefined && !this.busy) this.schedule(this.opts.quietMs);
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, ms);
  }

  private async check(): Promise<void> {
    if (this.pending.length === 0 || this.busy) return;
    const now = this.clock.now();
    const quiet = now - this.last;
    const waited = now - this.first;
    if (quiet < this.opts.quietMs && waited < this.opts.maxMs) {
      this.schedule(Math.min(this.opts.quietMs - quiet, this.opts.maxMs - waited));
      return;
    }
    const events = this.pending;
    const firstAt = this.first;
    this.pending = [];
    this.busy = true;
    try {
      await this.flush(events, firstAt);
    } finally {
      this.busy = false;
      if (this.pending.length > 0) this.schedule(Math.max(0, this.opts.quietMs - (this.clock.now() - this.last)));
    }
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
