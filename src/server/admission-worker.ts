// An admission worker thread: runs the admission work for the main thread (admission-runner.ts) and
// answers each message it is sent. An injection is two messages: the body (answered with what the main
// thread needs to find the pod's settings), then those settings (answered with the patch).
import { parentPort } from 'node:worker_threads';
import { computeInjection, type PendingInjection } from '../inject/review.js';
import { startInjection, validationAnswer } from './admission-work.js';
import { fromWire, type WireSettings } from './admission-settings.js';
import { lowerThreadPriority } from './thread-priority.js';

export type WorkerRequest =
  | { op: 'validate'; text: string }
  | { op: 'inject'; text: string }
  | { op: 'compute'; settings: WireSettings }
  | { op: 'release' };

export interface LogLine {
  level: 'warn' | 'debug';
  msg: string;
}

/** What the main thread gets back for an injection body: an answer, or the pod's identity for its settings. */
export function podIdentity(p: PendingInjection): PendingInjection {
  const m = p.pod.metadata ?? {};
  const meta = { name: m.name, generateName: m.generateName, namespace: m.namespace };
  return { envelope: p.envelope, namespace: p.namespace, uid: p.uid, pod: { metadata: meta, spec: { nodeName: p.pod.spec?.nodeName } } };
}

// Admission work yields the CPU to the main thread (xDS, the CA, health probes, reading bodies).
lowerThreadPriority();

let pending: PendingInjection | undefined;
const parts = new Map<number, unknown>();

function handle(m: WorkerRequest): unknown {
  switch (m.op) {
    case 'validate':
      return validationAnswer(m.text);
    case 'inject': {
      const prepared = startInjection(m.text);
      if ('answer' in prepared) return prepared;
      pending = prepared.pending;
      return { pending: podIdentity(pending) };
    }
    case 'compute': {
      const p = pending;
      pending = undefined;
      if (!p) throw new Error('no injection in progress');
      const logs: LogLine[] = [];
      const computed = computeInjection(p, fromWire(m.settings, parts), {
        warn: (msg) => logs.push({ level: 'warn', msg }),
        info: (msg) => logs.push({ level: 'debug', msg }),
      });
      return { computed, logs };
    }
    case 'release':
      pending = undefined;
      return undefined;
  }
}

parentPort?.on('message', ({ seq, message }: { seq: number; message: WorkerRequest }) => {
  let reply: unknown;
  try {
    reply = handle(message);
  } catch (e) {
    reply = { failed: (e as Error).message };
  }
  if (seq !== 0) parentPort!.postMessage({ seq, reply });
});

// Loaded: the pool starts handing this worker reviews (and their deadlines) from now on.
parentPort?.postMessage({ seq: 0, ready: true });
