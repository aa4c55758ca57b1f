// The JSON helpers every module shares: objects arrive as parsed JSON or YAML, so a value is checked to
// be a plain object (not null, not an array) before its fields are read.

export type Obj = Record<string, unknown>;

/** A plain object: not null, not an array. */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value when it is a plain object, else an empty one (for reading optional nested maps). */
export function rec(v: unknown): Obj {
  return isObj(v) ? v : {};
}
