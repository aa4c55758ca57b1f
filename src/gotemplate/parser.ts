// Parser for Go text/template: builds the node tree of Go's text/template/parse (list, action, if, range,
// with, template, define/block, break/continue; pipelines, commands, field chains).
import { lex, TemplateSyntaxError, type Token } from './lexer.js';

export type ArgNode =
  | { type: 'field'; path: string[] }
  | { type: 'variable'; name: string; path: string[] }
  | { type: 'dot' }
  | { type: 'nil' }
  | { type: 'bool'; value: boolean }
  | { type: 'number'; value: number; text: string }
  | { type: 'string'; value: string }
  | { type: 'identifier'; name: string }
  | { type: 'chain'; node: ArgNode; path: string[] }
  | PipeNode;

export interface CommandNode {
  args: ArgNode[];
}

export interface PipeNode {
  type: 'pipe';
  decl: string[];
  isAssign: boolean;
  cmds: CommandNode[];
  line: number;
}

export type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pipe: PipeNode; line: number }
  | { type: 'if' | 'with'; pipe: PipeNode; list: Node[]; elseList: Node[] | null; line: number }
  | { type: 'range'; pipe: PipeNode; list: Node[]; elseList: Node[] | null; line: number }
  | { type: 'template'; name: string; pipe: PipeNode | null; line: number }
  | { type: 'break' | 'continue'; line: number };

export interface ParsedTemplates {
  root: Node[];
  defines: Map<string, Node[]>;
}

/** Parses template text. `isFunction` tells which identifiers are known functions (Go rejects unknown ones). */
export function parse(name: string, text: string, isFunction: (n: string) => boolean): ParsedTemplates {
  return new Parser(name, lex(name, text), isFunction).parseAll();
}

type EndKind = 'end' | 'else' | 'eof';

class Parser {
  private i = 0;
  private readonly defines = new Map<string, Node[]>();
  private rangeDepth = 0;
  private vars: string[][] = [['$']];

  constructor(
    private readonly name: string,
    private readonly tokens: Token[],
    private readonly isFunction: (n: string) => boolean,
  ) {}

  parseAll(): ParsedTemplates {
    const { list, end } = this.parseList();
    if (end !== 'eof') this.fail(`unexpected {{${end}}}`);
    return { root: list, defines: this.defines };
  }

  fail(msg: string, tok: Token = this.peek()): never {
    throw new TemplateSyntaxError(this.name, tok.line, msg);
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private skipSpace(): Token {
    while (this.peek().kind === 'space') this.i++;
    return this.peek();
  }

  private nextNonSpace(): Token {
    this.skipSpace();
    return this.next();
  }

  private expect(kind: Token['kind'], context: string): Token {
    const t = this.nextNonSpace();
    if (t.kind !== kind) this.fail(`unexpected ${describe(t)} in ${context}`, t);
    return t;
  }

  /** Parses nodes until {{end}}, {{else}} or EOF; returns which one stopped it (consumed). */
  private parseList(): { list: Node[]; end: EndKind } {
    const list: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return { list, end: 'eof' };
      if (t.kind === 'text') {
        this.next();
        list.push({ type: 'text', text: t.value });
        continue;
      }
      // leftDelim
      this.next();
      const k = this.skipSpace();
      if (k.kind === 'keyword') {
        if (k.value === 'end') {
          this.next();
          this.expect('rightDelim', 'end');
          return { list, end: 'end' };
        }
        if (k.value === 'else') return { list, end: 'else' }; // caller consumes the rest
        const node = this.parseKeyword(k);
        if (node) list.push(node);
        continue;
      }
      const pipe = this.parsePipeline('command', false);
      list.push({ type: 'action', pipe, line: k.line });
    }
  }

  private parseKeyword(k: Token): Node | null {
    this.next();
    switch (k.value) {
      case 'if':
      case 'with':
        return this.parseControl(k.value, k.line);
      case 'range': {
        this.rangeDepth++;
        try {
          return this.parseControl('range', k.line);
        } finally {
          this.rangeDepth--;
        }
      }
      case 'template':
        return this.parseTemplateCall(k.line);
      case 'block': {
        const call = this.parseTemplateCall(k.line, true);
        const { list, end } = this.withScope(() => this.parseList());
        if (end !== 'end') this.fail('unexpected EOF in block');
        this.defines.set(call.name, list);
        return call;
      }
      case 'define': {
        const nameTok = this.nextNonSpace();
        if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString') this.fail('define name must be a string', nameTok);
        this.expect('rightDelim', 'define clause');
        const saved = this.vars;
        this.vars = [['$']];
        const { list, end } = this.parseList();
        this.vars = saved;
        if (end !== 'end') this.fail('unexpected EOF in define');
        this.defines.set(unquote(nameTok, this), list);
        return null;
      }
      case 'break':
      case 'continue':
        if (this.rangeDepth === 0) this.fail(`{{${k.value}}} outside {{range}}`, k);
        this.expect('rightDelim', k.value);
        return { type: k.value, line: k.line };
      default:
        return this.fail(`unexpected keyword ${k.value}`, k);
    }
  }

  private withScope<T>(fn: () => T): T {
    this.vars.push([]);
    try {
      return fn();
    } finally {
      this.vars.pop();
    }
  }

  private parseControl(type: 'if' | 'with' | 'range', line: number): Node {
    return this.withScope(() => {
      const pipe = this.parsePipeline(type, type === 'range');
      const { list, end } = this.parseList();
      let elseList: Node[] | null = null;
      if (end === 'else') {
        this.next(); // 'else' keyword
        const after = this.skipSpace();
        // "else if" / "else with" chains become a nested control node in the else list.
        if (after.kind === 'keyword' && (after.value === 'if' || after.value === 'with') && type !== 'range') {
          this.next();
          this.vars.pop();
          this.vars.push([]);
          const nested = this.parseControl(after.value, after.line);
          elseList = [nested];
          return { type, pipe, list, elseList, line };
        }
        this.expect('rightDelim', 'else');
        const rest = this.parseList();
        if (rest.end !== 'end') this.fail(`expected end; found ${rest.end}`);
        elseList = rest.list;
      } else if (end !== 'end') this.fail(`unexpected EOF in ${type}`);
      return { type, pipe, list, elseList, line } as Node;
    });
  }

  private parseTemplateCall(line: number, isBlock = false): Node & { type: 'template' } {
    const nameTok = this.nextNonSpace();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString') this.fail('template name must be a string', nameTok);
    const name = unquote(nameTok, this);
    const t = this.skipSpace();
    let pipe: PipeNode | null = null;
    if (t.kind !== 'rightDelim') pipe = this.parsePipeline(isBlock ? 'block' : 'template', false);
    else this.next();
    return { type: 'template', name, pipe, line };
  }

  private parsePipeline(context: string, allowTwoDecls: boolean): PipeNode {
    const line = this.peek().line;
    const decl: string[] = [];
    let isAssign = false;
    // Look ahead for "$x :=", "$x =", or "$i, $v :=".
    const save = this.i;
    const v = this.skipSpace();
    if (v.kind === 'variable') {
      this.next();
      const after = this.skipSpace();
      if (after.kind === 'declare' || after.kind === 'assign') {
        this.next();
        decl.push(v.value);
        isAssign = after.kind === 'assign';
      } else if (after.kind === 'comma' && allowTwoDecls) {
        this.next();
        const v2 = this.nextNonSpace();
        if (v2.kind !== 'variable') this.fail('range can only initialize variables', v2);
        const op = this.nextNonSpace();
        if (op.kind !== 'declare' && op.kind !== 'assign') this.fail('expected := or = after range variables', op);
        decl.push(v.value, v2.value);
        isAssign = op.kind === 'assign';
      } else this.i = save;
    } else this.i = save;
    if (isAssign) for (const d of decl) this.checkVariable(d);
    const cmds: CommandNode[] = [];
    for (;;) {
      const t = this.skipSpace();
      if (t.kind === 'rightDelim' || t.kind === 'rightParen') {
        this.next();
        if (t.kind === 'rightParen' && context !== 'paren') this.fail('unexpected right paren', t);
        if (t.kind === 'rightDelim' && context === 'paren') this.fail('unclosed left paren', t);
        break;
      }
      cmds.push(this.parseCommand());
    }
    if (cmds.length === 0 && context !== 'paren') this.fail(`missing value for ${context}`);
    if (!isAssign) this.vars[this.vars.length - 1]!.push(...decl);
    return { type: 'pipe', decl, isAssign, cmds, line };
  }

  private parseCommand(): CommandNode {
    const args: ArgNode[] = [];
    for (;;) {
      const t = this.skipSpace();
      if (t.kind === 'rightDelim' || t.kind === 'rightParen') break;
      if (t.kind === 'pipe') {
        this.next();
        break;
      }
      if (args.length > 0 && this.tokens[this.i - 1]?.kind !== 'space') this.fail(`missing space before ${describe(t)}`, t);
      args.push(this.parseOperand());
    }
    if (args.length === 0) this.fail('empty command');
    return { args };
  }

  private parseOperand(): ArgNode {
    const t = this.next();
    let node: ArgNode;
    switch (t.kind) {
      case 'field':
        node = { type: 'field', path: [t.value.slice(1)] };
        break;
      case 'variable':
        this.checkVariable(t.value);
        node = { type: 'variable', name: t.value, path: [] };
        break;
      case 'dot':
        node = { type: 'dot' };
        break;
      case 'nil':
        node = { type: 'nil' };
        break;
      case 'bool':
        node = { type: 'bool', value: t.value === 'true' };
        break;
      case 'number':
        node = { type: 'number', value: parseGoNumber(t.value, this), text: t.value };
        break;
      case 'char':
        node = { type: 'number', value: unquote(t, this).codePointAt(0) ?? 0, text: t.value };
        break;
      case 'string':
      case 'rawString':
        node = { type: 'string', value: unquote(t, this) };
        break;
      case 'identifier':
        if (!this.isFunction(t.value)) this.fail(`function "${t.value}" not defined`, t);
        node = { type: 'identifier', name: t.value };
        break;
      case 'leftParen':
        node = this.parsePipeline('paren', false);
        break;
      default:
        return this.fail(`unexpected ${describe(t)} in operand`, t);
    }
    // Field chains: .A.B, $x.A, (pipe).A
    const path: string[] = [];
    while (this.peek().kind === 'field') path.push(this.next().value.slice(1));
    if (path.length === 0) return node;
    if (node.type === 'field' || node.type === 'variable') return { ...node, path: [...node.path, ...path] };
    if (node.type === 'dot') return { type: 'field', path };
    if (node.type === 'nil' || node.type === 'bool' || node.type === 'number' || node.type === 'string')
      this.fail(`unexpected . after term ${describe(t)}`, t);
    return { type: 'chain', node, path };
  }

  private checkVariable(name: string): void {
    if (!this.vars.some((scope) => scope.includes(name))) this.fail(`undefined variable "${name}"`);
  }
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'EOF' : `${JSON.stringify(t.value)}`;
}

function unquote(t: Token, p: { fail(msg: string, tok?: Token): never }): string {
  if (t.kind === 'rawString') return t.value.slice(1, -1);
  const body = t.value.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (e !== undefined && e in simple) out += simple[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) p.fail(`invalid syntax in ${t.value}`, t);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += len;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else p.fail(`invalid syntax in ${t.value}`, t);
  }
  return out;
}

function parseGoNumber(text: string, p: { fail(msg: string): never }): number {
  const clean = text.replace(/_/g, '');
  let n: number;
  if (/^[+-]?0[xXbBoO]/.test(clean)) {
    const sign = clean.startsWith('-') ? -1 : 1;
    n = sign * Number(clean.replace(/^[+-]/, ''));
  } else if (/^[+-]?0[0-7]+$/.test(clean)) n = parseInt(clean, 8);
  else n = Number(clean);
  if (Number.isNaN(n)) p.fail(`bad number syntax: ${text}`);
  return n;
}
