// A Go text/template engine for the templates istiod operators already have (injection templates in the
// istio-sidecar-injector ConfigMap). No npm package executes Go templates, so meshd carries its own.
import { execute, type FuncMap } from './exec.js';
import { goBuiltins, sprigFuncs } from './funcs.js';
import { parse, type ParsedTemplates } from './parser.js';

export { TemplateExecError } from './exec.js';
export type { FuncMap, TemplateFunc } from './exec.js';
export { TemplateSyntaxError } from './lexer.js';
export { goStringMap, goStruct, formatValue, goQuote } from './values.js';
export { empty } from './funcs.js';

export class GoTemplate {
  private constructor(
    readonly name: string,
    private readonly tree: ParsedTemplates,
    private readonly funcs: FuncMap,
  ) {}

  /** Parses `text`. `extraFuncs` override sprig's functions of the same name, as Istio's funcmap does. */
  static parse(name: string, text: string, extraFuncs: FuncMap = {}): GoTemplate {
    const funcs: FuncMap = { ...sprigFuncs, ...goBuiltins, ...extraFuncs };
    const tree = parse(name, text, (n) => Object.prototype.hasOwnProperty.call(funcs, n));
    return new GoTemplate(name, tree, funcs);
  }

  execute(data: unknown): string {
    return execute(this.name, this.tree, this.funcs, data);
  }
}
