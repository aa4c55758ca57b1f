// YAML decoding with Kubernetes' conventions (YAML 1.1 scalars, as sigs.k8s.io/yaml reads them) and limits
// that keep hostile input (alias bombs, huge documents) from exhausting the process.
import jsyaml from 'js-yaml';
import { parseAllDocuments, parseDocument, type DocumentOptions, type ParseOptions, type SchemaOptions, type ToJSOptions } from 'yaml';

const OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  // Go's yaml.v2 has no sexagesimal or binary/octal-prefix ints; keep the common core of 1.1.
  schema: 'yaml-1.1',
  merge: true,
  uniqueKeys: false,
  strict: false,
  prettyErrors: false,
  // User text (annotations) must not make the library print process warnings on every request.
  logLevel: 'error',
  // The library's YAML 1.1 float pattern takes "." for a number (NaN); Go's yaml keeps it a string.
  customTags: (tags) =>
    tags.map((t) =>
      typeof t === 'object' && t.tag === 'tag:yaml.org,2002:float' && t.test?.test('.')
        ? { ...t, test: /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?$/ }
        : t,
    ),
};
const TO_JS: ToJSOptions = { maxAliasCount: 100 };

/** A decoding error of `source`, at a 1-based line and column when the parser knows where. */
export class YamlError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    // One line, compiler style (file:line:column), so that editors and terminals can jump to it.
    super(`${source}${line !== undefined ? `:${line}:${column ?? 1}` : ''}: ${oneLine(reason)}`);
    this.name = 'YamlError';
  }

  /** The same error named after another source (the file a caller read the text from). */
  renamed(source: string): YamlError {
    return new YamlError(source, this.reason, this.line, this.column);
  }
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/** The 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastBreak };
}

function parseError(text: string, what: string, err: { message: string; pos?: [number, number] }): YamlError {
  if (!err.pos) return new YamlError(what, err.message);
  const { line, column } = lineColumn(text, err.pos[0]);
  return new YamlError(what, err.message, line, column);
}

/** Parses one YAML (or JSON) document into a plain value. */
export function parseYaml(text: string, what: string): unknown {
  const doc = parseDocument(text, OPTIONS);
  if (doc.errors.length > 0) throw new YamlError(what, doc.errors[0]!.message);
  try {
    return doc.toJS(TO_JS) as unknown;
  } catch (e) {
    throw new YamlError(what, (e as Error).message);
  }
}

/** Parses one YAML document that must be a map (or empty). */
export function parseYamlObject(text: string, what: string): Record<string, unknown> {
  const v = parseYaml(text, what);
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new YamlError(what, `expected a map, got ${Array.isArray(v) ? 'a list' : typeof v}`);
  }
  return v as Record<string, unknown>;
}

/** Parses a multi-document YAML stream; empty documents are dropped. Errors carry `what`, line and column. */
export function parseYamlStream(text: string, what: string): unknown[] {
  const docs = parseAllDocuments(text, OPTIONS);
  if (!Array.isArray(docs)) throw new YamlError(what, 'invalid YAML stream');
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw parseError(text, what, doc.errors[0]!);
    try {
      const v = doc.toJS(TO_JS) as unknown;
      if (v !== null && v !== undefined) out.push(v);
    } catch (e) {
      throw new YamlError(what, (e as Error).message);
    }
  }
  return out;
}

/** True when some object or array is reachable twice: the document used YAML aliases. */
function sharesNodes(root: unknown): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (seen.has(v)) return true;
    seen.add(v);
    for (const c of Object.values(v)) if (typeof c === 'object' && c !== null) stack.push(c);
  }
  return false;
}

/**
 * Parses YAML on the hot path (rendered injection templates) with js-yaml, which is about ten times
 * faster. A document that uses aliases is parsed again by the strict parser, whose alias limit stops
 * alias bombs (js-yaml shares aliased nodes, and expanding them later could exhaust memory).
 * A key given twice keeps its last value, as istiod's non-strict decoding of rendered templates does
 * (Istio's template writes a userVolumeMount item as `name: "<index>"` followed by the item's own name).
 */
export function parseYamlFast(text: string, what: string): unknown {
  let v: unknown;
  try {
    // The core schema: Kubernetes YAML has no timestamps or other tagged types.
    v = jsyaml.load(text, { filename: what, schema: jsyaml.CORE_SCHEMA, json: true });
  } catch (e) {
    // js-yaml's message quotes the text over several lines: keep its reason and position only.
    const { reason, mark } = e as { reason?: string; mark?: { line: number; column: number } };
    if (reason && mark) throw new YamlError(what, reason, mark.line + 1, mark.column + 1);
    throw new YamlError(what, (e as Error).message);
  }
  // Aliases need an anchor (&name); without one in the text no node can be shared.
  return text.includes('&') && sharesNodes(v) ? parseYaml(text, what) : v;
}
