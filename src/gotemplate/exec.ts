// Executes a parsed Go template against JavaScript data, following text/template/exec.go: dot and
// variable scoping, pipelines with the previous result as the last argument, lazy and/or, range over
// arrays, maps (sorted keys) and integers, break/continue, nested templates.
import type { ArgNode, CommandNode, Node, ParsedTemplates, PipeNode } from './parser.js';
import { sprigFuncs } from './funcs.js';
import { formatValue, isMap, isStruct, truth, typeName } from './values.js';

export type TemplateFunc = (...args: unknown[]) => unknown;
export type FuncMap = Record<string, TemplateFunc>;

export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

/** Guards against runaway templates (recursive {{template}} or huge ranges) from untrusted config. */
const MAX_TEMPLATE_DEPTH = 100;
const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string;
  value: unknown;
}

/** Lazy functions get unevaluated argument thunks (Go's and/or short-circuit). */
const LAZY = new Set(['and', 'or']);

export function execute(name: string, tree: ParsedTemplates, funcs: FuncMap, data: unknown): string {
  const state = new State(name, tree, funcs);
  state.vars.push({ name: '$', value: data });
  state.walkList(data, tree.root);
  return state.out.join('');
}

class State {
  readonly out: string[] = [];
  private outLen = 0;
  readonly vars: Variable[] = [];
  private depth = 0;
  private line = 0;

  constructor(
    private readonly name: string,
    private readonly tree: ParsedTemplates,
    private readonly funcs: FuncMap,
  ) {}

  private fail(msg: string): never {
    throw new TemplateExecError(`template: ${this.name}:${this.line}: executing "${this.name}": ${msg}`);
  }

  private write(s: string): void {
    this.outLen += s.length;
    if (this.outLen > MAX_OUTPUT_CHARS) this.fail('template output exceeds size limit');
    this.out.push(s);
  }

  walkList(dot: unknown, list: Node[]): void {
    for (const node of list) this.walk(dot, node);
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.type) {
      case 'text':
        this.write(node.text);
        return;
      case 'action': {
        this.line = node.line;
        if (this.appendInPlace(dot, node.pipe)) return;
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.write(printable(v, (m) => this.fail(m)));
        return;
      }
      case 'if':
      case 'with': {
        this.line = node.line;
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        if (truth(v)) this.walkList(node.type === 'with' ? v : dot, node.list);
        else if (node.elseList) this.walkList(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.line = node.line;
        this.walkRange(dot, node);
        return;
      case 'template': {
        this.line = node.line;
        const t = this.tree.defines.get(node.name);
        if (!t) this.fail(`no such template "${node.name}"`);
        const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
        if (++this.depth > MAX_TEMPLATE_DEPTH) this.fail(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
        const saved = this.vars.splice(0);
        this.vars.push({ name: '$', value: newDot });
        try {
          this.walkList(newDot, t);
        } finally {
          this.vars.splice(0, this.vars.length, ...saved);
          this.depth--;
        }
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private walkRange(dot: unknown, node: Node & { type: 'range' }): void {
    const mark = this.vars.length;
    const v = this.evalPipeline(dot, node.pipe);
    this.vars.length = mark;
    const decl = node.pipe.decl;
    const iterate = (key: unknown, elem: unknown): boolean => {
      if (decl.length === 1) this.setVar(decl[0]!, elem, node.pipe.isAssign, mark);
      if (decl.length === 2) {
        this.setVar(decl[0]!, key, node.pipe.isAssign, mark);
        this.setVar(decl[1]!, elem, node.pipe.isAssign, mark);
      }
      try {
        this.walkList(elem, node.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.vars.length = mark + (node.pipe.isAssign ? 0 : 0);
      }
      return true;
    };
    let any = false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        any = true;
        if (!iterate(i, v[i])) break;
      }
    } else if (isMap(v) && !isStruct(v)) {
      for (const k of Object.keys(v).sort()) {
        any = true;
        if (!iterate(k, v[k])) break;
      }
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      if (decl.length > 1) this.fail("can't use range over integer with two variables");
      for (let i = 0; i < v; i++) {
        any = true;
        if (!iterate(i, i)) break;
      }
    } else if (v !== undefined && v !== null && v !== '') {
      this.fail(`range can't iterate over ${formatValue(v)}`);
    }
    if (!any && node.elseList) this.walkList(dot, node.elseList);
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown, isAssign: boolean, mark: number): void {
    if (isAssign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i]!.name === name) {
          this.vars[i]!.value = value;
          return;
        }
      }
      this.fail(`undefined variable: ${name}`);
    }
    void mark;
    this.vars.push({ name, value });
  }

  private lookupVar(name: string): unknown {
    const slot = this.findVar(name);
    if (!slot) return this.fail(`undefined variable: ${name}`);
    // The list is visible elsewhere from now on: the next append must copy it.
    if (Array.isArray(slot.value)) this.owned.delete(slot.value);
    return slot.value;
  }

  private findVar(name: string): Variable | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i];
    return undefined;
  }

  /** Lists made by `$v = append $v x` that only that variable holds (see appendInPlace). */
  private readonly owned = new WeakSet<unknown[]>();

  /**
   * `{{ $v = append $v x }}` over a range copies the list every time in sprig (and in Go), quadratic in the
   * list's length. The list is extended in place instead when nothing else can see it: it was made by such an
   * assignment and the variable has not been read since (lookupVar disowns what it hands out).
   */
  private appendInPlace(dot: unknown, pipe: PipeNode): boolean {
    if (!pipe.isAssign || pipe.decl.length !== 1 || pipe.cmds.length !== 1) return false;
    const [fn, target, item] = pipe.cmds[0]!.args;
    if (pipe.cmds[0]!.args.length !== 3 || fn?.type !== 'identifier' || target?.type !== 'variable' || !item) return false;
    if ((fn.name !== 'append' && fn.name !== 'push') || this.funcs[fn.name] !== sprigFuncs[fn.name]) return false;
    if (target.name !== pipe.decl[0] || target.path.length !== 0) return false;
    const slot = this.findVar(target.name);
    const current = slot?.value;
    if (!slot || !Array.isArray(current) || !this.owned.has(current)) {
      const made = this.evalPipeline(dot, pipe);
      if (Array.isArray(made)) this.owned.add(made);
      return true;
    }
    const value = this.evalArg(dot, item);
    if (slot.value === current && this.owned.has(current)) current.push(value);
    else this.owned.add((slot.value = [...current, value]));
    return true;
  }

  evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    let value: unknown = undefined;
    let first = true;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, first ? NO_FINAL : value);
      first = false;
    }
    for (const d of pipe.decl) this.setVar(d, value, pipe.isAssign, this.vars.length);
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: unknown): unknown {
    const [first, ...rest] = cmd.args as [ArgNode, ...ArgNode[]];
    switch (first.type) {
      case 'field':
        return this.evalFieldChain(dot, dot, first.path, rest, final);
      case 'variable':
        return this.evalFieldChain(dot, this.lookupVar(first.name), first.path, rest, final);
      case 'chain': {
        const base = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, base, first.path, rest, final);
      }
      case 'identifier':
        return this.evalFunction(dot, first.name, rest, final);
      case 'pipe':
        this.notAFunction(rest, final);
        return this.evalPipeline(dot, first);
      default:
        this.notAFunction(rest, final);
        return this.evalArg(dot, first);
    }
  }

  private notAFunction(args: ArgNode[], final: unknown): void {
    if (args.length > 0 || final !== NO_FINAL) this.fail("can't give argument to non-function");
  }

  private evalFieldChain(dot: unknown, receiver: unknown, path: string[], args: ArgNode[], final: unknown): unknown {
    if (path.length === 0) {
      this.notAFunction(args, final);
      return receiver;
    }
    let v = receiver;
    for (let i = 0; i < path.length; i++) {
      v = this.field(v, path[i]!);
    }
    // Go would call a method with arguments here; data is plain, so arguments are an error.
    if (args.length > 0 || final !== NO_FINAL) this.fail(`${path[path.length - 1]} is not a method but has arguments`);
    void dot;
    return v;
  }

  private field(receiver: unknown, name: string): unknown {
    if (receiver === undefined) return undefined; // invalid value: Go returns zero quietly
    if (receiver === null) {
      if (name.startsWith('Get')) return undefined; // generated getters are nil-safe
      this.fail(`nil pointer evaluating interface {}.${name}`);
    }
    if (isMap(receiver)) {
      if (Object.prototype.hasOwnProperty.call(receiver, name)) return receiver[name];
      if (isStruct(receiver)) {
        const json = jsonName(name);
        if (Object.prototype.hasOwnProperty.call(receiver, json)) return receiver[json];
        if (name.startsWith('Get') && name.length > 3) return this.field(receiver, name.slice(3));
        return '';
      }
      return undefined;
    }
    // Methods of protobuf wrappers and enums that istio's templates call on scalar values.
    if (name === 'String') return formatValue(receiver);
    if (name === 'GetValue') return receiver;
    if (name.startsWith('Get') && receiver === '') return '';
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: unknown, name: string, args: ArgNode[], final: unknown): unknown {
    const fn = this.funcs[name];
    if (!fn) this.fail(`"${name}" is not a defined function`);
    if (LAZY.has(name)) {
      const thunks = args.map((a) => () => this.evalArg(dot, a));
      if (final !== NO_FINAL) thunks.push(() => final);
      if (thunks.length === 0) this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      return this.callLazy(name, thunks);
    }
    const values = args.map((a) => this.evalArg(dot, a));
    if (final !== NO_FINAL) values.push(final);
    try {
      return fn(...values);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      return this.fail(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  private callLazy(name: string, thunks: Array<() => unknown>): unknown {
    let v: unknown;
    for (const t of thunks) {
      v = t();
      if (name === 'and' ? !truth(v) : truth(v)) return v;
    }
    return v;
  }

  private evalArg(dot: unknown, node: ArgNode): unknown {
    switch (node.type) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'bool':
        return node.value;
      case 'number':
        return node.value;
      case 'string':
        return node.value;
      case 'field':
        return this.evalFieldChain(dot, dot, node.path, [], NO_FINAL);
      case 'variable':
        return this.evalFieldChain(dot, this.lookupVar(node.name), node.path, [], NO_FINAL);
      case 'chain':
        return this.evalFieldChain(dot, this.evalArg(dot, node.node), node.path, [], NO_FINAL);
      case 'pipe': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node);
        this.vars.length = Math.max(mark, this.vars.length);
        return v;
      }
      case 'identifier':
        return this.evalFunction(dot, node.name, [], NO_FINAL);
    }
  }
}

const NO_FINAL = Symbol('noFinal');

function printable(v: unknown, fail: (m: string) => never): string {
  if (typeof v === 'function') fail("can't print function");
  return formatValue(v);
}

const jsonNames = new Map<string, string>();

/** Go exported field name to its JSON name: "APIVersion" -> "apiVersion", "Name" -> "name". */
export function jsonName(goName: string): string {
  let name = jsonNames.get(goName);
  if (name === undefined) {
    name = toJsonName(goName);
    if (jsonNames.size < 4096) jsonNames.set(goName, name);
  }
  return name;
}

function toJsonName(goName: string): string {
  const m = /^[A-Z]+/.exec(goName);
  if (!m) return goName;
  const run = m[0];
  if (run.length === goName.length) return goName.toLowerCase();
  if (run.length === 1) return run.toLowerCase() + goName.slice(1);
  return run.slice(0, -1).toLowerCase() + goName.slice(run.length - 1);
}
