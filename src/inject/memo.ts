// Memoisation helpers. Injection is a pure function of the pod and the settings, and every pod of a
// ReplicaSet reaches the webhook with the same spec, so answers are remembered. Settings objects are
// replaced, never mutated, on reload, so their identity stands for their content.

const ids = new WeakMap<object, number>();
const textIds = new Map<string, number>();
let nextId = 1;

/** A small number standing for an object's (or a template text's) identity. */
export function identity(v: object | string): number {
  if (typeof v === 'string') {
    let id = textIds.get(v);
    if (id === undefined) {
      if (textIds.size > 1024) textIds.clear();
      textIds.set(v, (id = nextId++));
    }
    return id;
  }
  let id = ids.get(v);
  if (id === undefined) ids.set(v, (id = nextId++));
  return id;
}
