// What one stream has written and its transport has not yet taken (HTTP/2 flow control holds it back when the
// client does not read). Above a high-water mark the stream stops reading requests, so a client that sends
// but never reads cannot make meshd queue more, and pushes wait without holding a push slot. A response left
// untaken for the send timeout (istiod's former PILOT_XDS_SEND_TIMEOUT) gives up on the stream.

/** Where responses go; server.ts binds it to a gRPC stream. */
export interface StreamSink<T> {
  /** Queues a response; `taken` runs once the transport has taken it. */
  write(msg: T, taken: () => void): void;
  /** Stops (false) or restarts (true) reading requests. */
  reading(on: boolean): void;
  /** Ends the stream with a gRPC status sent after what is queued; reset if that takes over `resetAfterMs` (0: never). */
  close(code: number, details: string, resetAfterMs: number): void;
  /** Ends the stream at once and drops what is queued (a status cannot overtake what the client does not read). */
  reset(): void;
}

export interface SendLimits {
  /** Untaken bytes above which the stream stops reading requests and pushes wait. */
  highWaterBytes: number;
  /** How long a response may stay untaken before the stream is given up (0: forever). */
  sendTimeoutMs: number;
}

export class SendQueue<T> {
  /** Estimated bytes written and not yet taken. */
  bytes = 0;
  private writes = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private stopped = false;
  private waiters: Array<() => void> = [];

  constructor(
    readonly sink: StreamSink<T>,
    private readonly limits: SendLimits,
    private readonly onTimeout: () => void,
  ) {}

  get blocked(): boolean {
    return this.bytes > this.limits.highWaterBytes;
  }

  /** Writes a response of about `bytes`. */
  send(msg: T, bytes: number): void {
    if (this.stopped) return;
    this.bytes += bytes;
    if (++this.writes === 1 && this.limits.sendTimeoutMs > 0) {
      this.timer = setTimeout(() => this.expire(), this.limits.sendTimeoutMs);
      this.timer.unref();
    }
    if (!this.paused && this.blocked) {
      this.paused = true;
      this.sink.reading(false);
    }
    this.sink.write(msg, () => this.taken(bytes));
  }

  /** Resolves once the stream is below its high-water mark again, or stopped. */
  drained(): Promise<void> {
    if (!this.blocked || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Nothing more goes out: the timer stops and whoever waits for drain goes on (to find the stream closed). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake();
  }

  private taken(bytes: number): void {
    if (this.stopped) return;
    this.bytes -= bytes;
    // Progress: the next untaken response gets a whole timeout of its own, like one Send in istiod.
    if (--this.writes === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else this.timer?.refresh();
    if (this.blocked) return;
    if (this.paused) {
      this.paused = false;
      this.sink.reading(true);
    }
    this.wake();
  }

  private expire(): void {
    this.timer = undefined;
    if (!this.stopped) this.onTimeout();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
