// A worker thread's own scheduling priority. On Linux a thread has a nice value of its own, set through its
// thread id; threads it starts inherit it. Best effort: elsewhere, or when not allowed, nothing changes.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Admission workers' nice value: under contention the main thread gets most of the CPU. */
export const WORKER_NICE = 10;

/** Lowers the calling thread's priority (call it from the worker thread itself). */
export function lowerThreadPriority(nice = WORKER_NICE): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, nice);
  } catch {
    // no /proc, or not allowed: the thread keeps the process's priority
  }
}
