// A syntax check for CEL expressions (Telemetry access-log filters). istiod only parses them, it does
// not type-check, so a recursive-descent parser of the CEL grammar is all that is needed.

type Tok = { t: 'id' | 'num' | 'str' | 'op' | 'eof'; v: string; pos: number };

const OPS = ['||', '&&', '<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '%', '!', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = s.slice(i);
    const str = /^(?:[rR]?[bB]?|[bB]?[rR]?)('''[\s\S]*?'''|"""[\s\S]*?"""|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")/.exec(rest);
    if (str) {
      out.push({ t: 'str', v: str[0], pos: i });
      i += str[0].length;
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F]+[uU]?|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)/.exec(rest);
    if (num) {
      out.push({ t: 'num', v: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[_a-zA-Z][_a-zA-Z0-9]*/.exec(rest);
    if (id) {
      out.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (!op) throw new Error(`Syntax error: token recognition error at: '${c}' (${i})`);
    out.push({ t: 'op', v: op, pos: i });
    i += op.length;
  }
  out.push({ t: 'eof', v: '', pos: s.length });
  return out;
}

/** Throws with a CEL-style syntax error when `expr` does not parse. */
export function parseCel(source: string): void {
  const toks = tokenize(source);
  let k = 0;
  const peek = (): Tok => toks[k]!;
  const fail = (): never => {
    const t = peek();
    throw new Error(`Syntax error: ${t.t === 'eof' ? 'mismatched input \'<EOF>\'' : `extraneous input '${t.v}'`} (${t.pos})`);
  };
  const isOp = (v: string): boolean => peek().t === 'op' && peek().v === v;
  const eat = (v: string): void => {
    if (!isOp(v)) fail();
    k++;
  };
  const list = (close: string, item: () => void): void => {
    if (isOp(close)) return void k++;
    for (;;) {
      item();
      if (isOp(',')) {
        k++;
        if (isOp(close)) break;
        continue;
      }
      break;
    }
    eat(close);
  };
  const expr = (): void => {
    or();
    if (isOp('?')) {
      k++;
      or();
      eat(':');
      expr();
    }
  };
  const binary = (ops: string[], next: () => void) => (): void => {
    next();
    while (peek().t === 'op' && ops.includes(peek().v)) {
      k++;
      next();
    }
  };
  const primary = (): void => {
    const t = peek();
    if (t.t === 'num' || t.t === 'str') return void k++;
    if (t.t === 'id') {
      k++;
      if (isOp('(')) {
        k++;
        list(')', expr);
      }
      return;
    }
    if (isOp('.')) {
      k++;
      if (peek().t !== 'id') fail();
      return primary();
    }
    if (isOp('(')) {
      k++;
      expr();
      return eat(')');
    }
    if (isOp('[')) {
      k++;
      return list(']', expr);
    }
    if (isOp('{')) {
      k++;
      return list('}', () => {
        expr();
        eat(':');
        expr();
      });
    }
    fail();
  };
  const member = (): void => {
    primary();
    for (;;) {
      if (isOp('.')) {
        k++;
        if (peek().t !== 'id') fail();
        k++;
        if (isOp('(')) {
          k++;
          list(')', expr);
        }
      } else if (isOp('[')) {
        k++;
        expr();
        eat(']');
      } else break;
    }
  };
  const unary = (): void => {
    if (isOp('!') || isOp('-')) {
      k++;
      return unary();
    }
    member();
  };
  const mult = binary(['*', '/', '%'], unary);
  const add = binary(['+', '-'], mult);
  const relation = (): void => {
    add();
    while ((peek().t === 'op' && ['<', '<=', '>', '>=', '==', '!='].includes(peek().v)) || (peek().t === 'id' && peek().v === 'in')) {
      k++;
      add();
    }
  };
  const and = binary(['&&'], relation);
  const or = binary(['||'], and);
  expr();
  if (peek().t !== 'eof') fail();
}
