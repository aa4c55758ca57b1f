// A pool of worker threads for admission work, so that a review that takes long (a hostile body) cannot
// hold the event loop that also serves xDS, the CA and health probes. Work is a *session*: a conversation
// with one worker (an injection asks the main thread for its settings half way). Each session runs under
// a deadline, after which its worker is terminated and replaced; sessions wait in a bounded queue, and
// one that finds the queue full, or waits longer than the deadline, is refused at once.
import { Worker } from 'node:worker_threads';

export interface AdmissionPoolOptions {
  /** Worker threads. */
  size: number;
  /** How long one session may run on its worker (and, separately, wait for one). */
  deadlineMs: number;
  /** Sessions waiting for a worker at most; more are refused. */
  maxQueue: number;
  /** Body bytes waiting for a worker at most (a session may always wait alone). */
  maxQueueBytes?: number;
  /** Heap limit of each worker: a review that needs more fails alone. */
  maxHeapMb?: number;
  onWorkerExit?: (reason: string) => void;
}

/** Why a session got no answer from a worker: the admission error to send instead. */
export class AdmissionPoolError extends Error {
  constructor(
    message: string,
    /** HTTP-style code for the admission status: 429 overloaded, 500 deadline or worker failure. */
    readonly code: number,
  ) {
    super(message);
    this.name = 'AdmissionPoolError';
  }
}

/** One worker as a session sees it. */
export interface PooledWorker {
  /** Sends a message and waits for the worker's reply to it. */
  call<R>(message: object): Promise<R>;
  /** Sends a message that has no reply. */
  post(message: object): void;
  /** What the session protocol remembers about this worker (cleared when it is replaced). */
  readonly state: Map<string, unknown>;
}

const ENTRY = new URL('./admission-worker-entry.mjs', import.meta.url);

class Slot implements PooledWorker {
  readonly state = new Map<string, unknown>();
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private dead = false;

  constructor(
    readonly worker: Worker,
    onReady: (slot: Slot) => void,
    onExit: (slot: Slot, reason: string) => void,
  ) {
    worker.on('message', (m: { seq: number; reply: unknown; ready?: boolean }) => {
      if (m.ready) return onReady(this);
      const w = this.waiting.get(m.seq);
      this.waiting.delete(m.seq);
      w?.resolve(m.reply);
    });
    const fail = (reason: string): void => {
      if (this.dead) return;
      this.dead = true;
      for (const w of this.waiting.values()) w.reject(new AdmissionPoolError(`admission worker failed: ${reason}`, 500));
      this.waiting.clear();
      onExit(this, reason);
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
  }

  call<R>(message: object): Promise<R> {
    if (this.dead) return Promise.reject(new AdmissionPoolError('admission worker failed', 500));
    const seq = ++this.seq;
    return new Promise<R>((resolve, reject) => {
      this.waiting.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ seq, message });
    });
  }

  post(message: object): void {
    if (!this.dead) this.worker.postMessage({ seq: 0, message });
  }

  /** Ends the worker on purpose; its pending calls fail, and the pool is not told (it replaces it itself). */
  kill(): void {
    this.dead = true;
    for (const w of this.waiting.values()) w.reject(new AdmissionPoolError('admission worker stopped', 500));
    this.waiting.clear();
    void this.worker.terminate();
  }
}

interface Queued {
  bytes: number;
  start: (slot: Slot) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class AdmissionPool {
  private readonly idle: Slot[] = [];
  private readonly slots = new Set<Slot>();
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private closed = false;

  private readonly started: Promise<void>;
  private loads = 0;
  private onLoaded = (): void => undefined;

  constructor(private readonly opts: AdmissionPoolOptions) {
    const size = Math.max(1, opts.size);
    this.started = new Promise((resolve) => {
      this.onLoaded = () => {
        if (++this.loads === size) resolve();
      };
    });
    for (let i = 0; i < size; i++) this.spawn();
  }

  /** Resolves once as many workers as the pool's size have loaded (until then reviews wait in the queue). */
  ready(): Promise<void> {
    return this.started;
  }

  get deadlineMs(): number {
    return this.opts.deadlineMs;
  }

  /** Starts a worker; it takes work once it has loaded the admission code. */
  private spawn(): Slot {
    const worker = new Worker(ENTRY, {
      // The entry loads the TypeScript sources itself; the parent's loader flags do not carry over.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? 1024 },
    });
    const slot = new Slot(
      worker,
      (s) => {
        this.onLoaded();
        if (this.slots.has(s)) this.release(s);
      },
      (s, reason) => this.replace(s, reason),
    );
    this.slots.add(slot);
    // An idle worker must not keep the process alive (tests and the CLI end when their work is done).
    worker.unref();
    return slot;
  }

  /** A worker died by itself (out of memory, a crash): a fresh one takes its place. */
  private replace(slot: Slot, reason: string): void {
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.closed) return;
    this.opts.onWorkerExit?.(reason);
    this.spawn();
  }

  private release(slot: Slot): void {
    const next = this.queue.shift();
    if (next) {
      this.queuedBytes -= next.bytes;
      clearTimeout(next.timer);
      next.start(slot);
    } else this.idle.push(slot);
  }

  /** Runs `fn` with a worker of its own, under the deadline; `bytes` is the size of its body, for the queue. */
  session<T>(fn: (worker: PooledWorker) => Promise<T>, bytes = 0): Promise<T> {
    if (this.closed) return Promise.reject(new AdmissionPoolError('meshd is shutting down', 500));
    return new Promise<T>((resolve, reject) => {
      const start = (slot: Slot): void => {
        let finished = false;
        const timer = setTimeout(() => {
          if (finished) return;
          finished = true;
          // The worker may be stuck in a loop: only terminating it gets it back.
          this.slots.delete(slot);
          slot.kill();
          this.opts.onWorkerExit?.(`review exceeded the ${this.opts.deadlineMs} ms deadline`);
          if (!this.closed) this.spawn();
          reject(new AdmissionPoolError(`admission review not answered within the ${this.opts.deadlineMs} ms deadline`, 500));
        }, this.opts.deadlineMs);
        fn(slot).then(
          (v) => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            if (this.slots.has(slot)) this.release(slot);
            resolve(v);
          },
          (e: Error) => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            if (this.slots.has(slot)) this.release(slot);
            reject(e);
          },
        );
      };
      const slot = this.idle.pop();
      if (slot) return start(slot);
      const overBytes = this.queue.length > 0 && this.queuedBytes + bytes > (this.opts.maxQueueBytes ?? Infinity);
      if (this.queue.length >= this.opts.maxQueue || overBytes) {
        return reject(new AdmissionPoolError(`meshd is overloaded: ${this.queue.length} admission reviews (${this.queuedBytes} bytes) are already waiting`, 429));
      }
      this.queuedBytes += bytes;
      const queued: Queued = {
        bytes,
        start,
        reject,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(queued);
          if (i >= 0) {
            this.queue.splice(i, 1);
            this.queuedBytes -= bytes;
          }
          reject(new AdmissionPoolError(`meshd is overloaded: no admission worker was free within ${this.opts.deadlineMs} ms`, 429));
        }, this.opts.deadlineMs),
      };
      this.queue.push(queued);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queuedBytes = 0;
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      q.reject(new AdmissionPoolError('meshd is shutting down', 500));
    }
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
    this.slots.clear();
    this.idle.length = 0;
  }
}
