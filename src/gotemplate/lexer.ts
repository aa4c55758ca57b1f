// Lexer for Go's text/template syntax: text, {{ actions }}, trim markers ("{{- ", " -}}") and comments.
// Mirrors the token set of Go's text/template/parse/lex.go so templates written for istiod lex the same.

export type TokenKind =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'identifier'
  | 'keyword'
  | 'field'
  | 'variable'
  | 'string'
  | 'rawString'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'space'
  | 'eof';

export interface Token {
  kind: TokenKind;
  value: string;
  pos: number;
  line: number;
}

export const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);

export class TemplateSyntaxError extends Error {
  constructor(
    readonly templateName: string,
    readonly line: number,
    message: string,
  ) {
    super(`template: ${templateName}:${line}: ${message}`);
    this.name = 'TemplateSyntaxError';
  }
}

const LEFT = '{{';
const RIGHT = '}}';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{N}_]/u.test(c);
}

/** Splits a template into tokens. Whitespace trimming is applied to text tokens here, as Go does. */
export function lex(name: string, input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let trimNextText = false;

  const lineAt = (p: number): number => {
    // Lines are counted incrementally; p only moves forward.
    for (let i = lastLinePos; i < p; i++) if (input[i] === '\n') line++;
    lastLinePos = Math.max(lastLinePos, p);
    return line;
  };
  let lastLinePos = 0;
  const fail = (p: number, msg: string): never => {
    throw new TemplateSyntaxError(name, lineAt(p), msg);
  };

  while (pos < input.length) {
    const open = input.indexOf(LEFT, pos);
    let text = open === -1 ? input.slice(pos) : input.slice(pos, open);
    let leftTrim = false;
    if (open !== -1 && input[open + 2] === '-' && isSpace(input[open + 3])) leftTrim = true;
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    if (text.length > 0) tokens.push({ kind: 'text', value: text, pos, line: lineAt(pos) });
    trimNextText = false;
    if (open === -1) break;

    let p = open + 2 + (leftTrim ? 2 : 0);
    // Comments: {{/* ... */}} with optional trim markers.
    if (input.startsWith('/*', p)) {
      const close = input.indexOf('*/', p + 2);
      if (close === -1) fail(p, 'unclosed comment');
      p = close + 2;
      let rightTrim = false;
      if (input.startsWith(' -' + RIGHT, p)) {
        rightTrim = true;
        p += 2;
      }
      if (!input.startsWith(RIGHT, p)) fail(p, 'comment ends before closing delimiter');
      pos = p + 2;
      trimNextText = rightTrim;
      continue;
    }
    tokens.push({ kind: 'leftDelim', value: LEFT, pos: open, line: lineAt(open) });
    let parenDepth = 0;
    for (;;) {
      if (p >= input.length) fail(p, 'unclosed action');
      // Right delimiter, possibly with trim marker.
      if (isSpace(input[p])) {
        const start = p;
        while (isSpace(input[p])) p++;
        if (input[p] === '-' && input.startsWith(RIGHT, p + 1)) {
          if (parenDepth > 0) fail(p, 'unclosed left paren');
          tokens.push({ kind: 'rightDelim', value: RIGHT, pos: p, line: lineAt(p) });
          p += 3;
          trimNextText = true;
          break;
        }
        tokens.push({ kind: 'space', value: input.slice(start, p), pos: start, line: lineAt(start) });
        continue;
      }
      if (input.startsWith(RIGHT, p)) {
        if (parenDepth > 0) fail(p, 'unclosed left paren');
        tokens.push({ kind: 'rightDelim', value: RIGHT, pos: p, line: lineAt(p) });
        p += 2;
        break;
      }
      const c = input[p]!;
      const start = p;
      const push = (kind: TokenKind, end: number): void => {
        tokens.push({ kind, value: input.slice(start, end), pos: start, line: lineAt(start) });
        p = end;
      };
      if (c === '|') push('pipe', p + 1);
      else if (c === '(') {
        parenDepth++;
        push('leftParen', p + 1);
      } else if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) fail(p, 'unexpected right paren');
        push('rightParen', p + 1);
      } else if (c === ',') push('comma', p + 1);
      else if (c === ':') {
        if (input[p + 1] !== '=') fail(p, 'expected :=');
        push('declare', p + 2);
      } else if (c === '=') push('assign', p + 1);
      else if (c === '"') {
        let q = p + 1;
        for (; q < input.length && input[q] !== '"'; q++) {
          if (input[q] === '\\') q++;
          if (input[q] === '\n') fail(q, 'unterminated quoted string');
        }
        if (q >= input.length) fail(p, 'unterminated quoted string');
        push('string', q + 1);
      } else if (c === '`') {
        const q = input.indexOf('`', p + 1);
        if (q === -1) fail(p, 'unterminated raw quoted string');
        push('rawString', q + 1);
      } else if (c === "'") {
        let q = p + 1;
        for (; q < input.length && input[q] !== "'"; q++) if (input[q] === '\\') q++;
        if (q >= input.length) fail(p, 'unterminated character constant');
        push('char', q + 1);
      } else if (c === '$') {
        let q = p + 1;
        while (isAlnum(input[q])) q++;
        push('variable', q);
      } else if (c === '.') {
        if (/[0-9]/.test(input[p + 1] ?? '')) {
          push('number', scanNumber(input, p));
        } else if (isAlnum(input[p + 1])) {
          let q = p + 1;
          while (isAlnum(input[q])) q++;
          push('field', q);
        } else push('dot', p + 1);
      } else if (/[0-9+-]/.test(c)) {
        const end = scanNumber(input, p);
        if (end === p) fail(p, `bad number syntax: ${JSON.stringify(input.slice(p, p + 3))}`);
        push('number', end);
      } else if (isAlnum(c)) {
        let q = p;
        while (isAlnum(input[q])) q++;
        const word = input.slice(p, q);
        if (KEYWORDS.has(word)) push('keyword', q);
        else if (word === 'true' || word === 'false') push('bool', q);
        else if (word === 'nil') push('nil', q);
        else push('identifier', q);
      } else fail(p, `unrecognized character in action: ${JSON.stringify(c)}`);
    }
    pos = p;
  }
  tokens.push({ kind: 'eof', value: '', pos: input.length, line: lineAt(input.length) });
  return tokens;
}

function scanNumber(input: string, start: number): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)i?/.exec(
    input.slice(start, start + 64),
  );
  const len = m?.[0].length ?? 0;
  // A lone sign or dot is not a number.
  if (len === 0 || /^[+-]?\.?$/.test(m![0])) return start;
  return start + len;
}
