import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoTemplate, goStringMap, goStruct, TemplateExecError, TemplateSyntaxError } from '../../src/gotemplate/index.js';

const run = (text: string, data: unknown = {}, funcs = {}): string => GoTemplate.parse('t', text, funcs).execute(data);

describe('Go template lexing and trimming', () => {
  it('trims whitespace around {{- and -}} but not around {{-3}}', () => {
    assert.equal(run('a  {{- "b" -}}  \n c'), 'abc');
    assert.equal(run('x {{-3}} y'), 'x -3 y');
  });
  it('drops comments, with trim markers', () => {
    assert.equal(run('a {{- /* note */ -}} b'), 'ab');
    assert.equal(run('a{{/* note */}}b'), 'ab');
  });
  it('decodes Go string, raw string and rune literals', () => {
    assert.equal(run('{{ "a\\tb\\x41\\u00e9" }}|{{ `raw\\n` }}|{{ \'a\' }}'), 'a\tbAé|raw\\n|97');
  });
  it('reports syntax errors with the line', () => {
    assert.throws(() => run('line1\n{{ if }}'), (e: Error) => e instanceof TemplateSyntaxError && /t:2:/.test(e.message));
    assert.throws(() => run('{{ nosuchfunc 1 }}'), /function "nosuchfunc" not defined/);
    assert.throws(() => run('{{ .a '), /unclosed action/);
    assert.throws(() => run('{{ if true }}x'), /unexpected EOF/);
    assert.throws(() => run('{{ $x }}'), /undefined variable "\$x"/);
    assert.throws(() => run('{{ break }}'), /outside \{\{range\}\}/);
  });
});

describe('Go template execution', () => {
  it('reads map keys and struct fields by Go name', () => {
    const data = goStruct({ ObjectMeta: goStruct({ name: 'n', labels: goStringMap({ app: 'x' }) }), TypeMeta: goStruct({ apiVersion: 'v1' }) });
    assert.equal(run('{{ .ObjectMeta.Name }} {{ .ObjectMeta.Labels.app }} {{ .TypeMeta.APIVersion }}', data), 'n x v1');
  });
  it('prints a missing map key as <no value>, an absent struct field as empty, null as <nil>', () => {
    assert.equal(run('{{ .m.missing }}|{{ .s.Missing }}|{{ .n }}', { m: {}, s: goStruct({}), n: null }), '<no value>||<nil>');
  });
  it('index gives "" for a missing key of a string map and nil for other maps', () => {
    assert.equal(run('[{{ index .a "k" }}][{{ index .b "k" }}]', { a: goStringMap({}), b: {} }), '[][<nil>]');
  });
  it('errors on a field of a nil value, as Go does', () => {
    assert.throws(() => run('{{ .n.x }}', { n: null }), (e: Error) => e instanceof TemplateExecError && /nil pointer evaluating interface \{\}\.x/.test(e.message));
  });
  it('calls generated getters and enum String on scalars', () => {
    assert.equal(run('{{ .p.GetTracing.GetTlsSettings }}|{{ .p.Mode.String }}|{{ .p.Hold.GetValue }}', { p: goStruct({ mode: 'TPROXY', hold: true }) }), '|TPROXY|true');
  });
  it('scopes variables to blocks and lets = assign outer ones', () => {
    assert.equal(run('{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}'), '2');
    assert.throws(() => run('{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}'), /undefined variable/);
  });
  it('ranges over lists, maps in key order, integers, with else, break and continue', () => {
    assert.equal(run('{{ range $i, $v := .l }}{{ $i }}={{ $v }},{{ end }}', { l: ['a', 'b'] }), '0=a,1=b,');
    assert.equal(run('{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ end }}', { m: { b: 2, a: 1 } }), 'a1b2');
    assert.equal(run('{{ range 3 }}{{ . }}{{ end }}'), '012');
    assert.equal(run('{{ range .l }}x{{ else }}empty{{ end }}', { l: [] }), 'empty');
    assert.equal(run('{{ range .l }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}', { l: [1, 2, 3, 4, 5] }), '13');
  });
  it('with rebinds dot and supports else with', () => {
    assert.equal(run('{{ with .a }}{{ . }}{{ else with .b }}b={{ . }}{{ else }}none{{ end }}', { a: '', b: 'B' }), 'b=B');
  });
  it('and/or short-circuit and return the deciding operand', () => {
    assert.equal(run('{{ or "" "x" }}|{{ and 1 0 }}|{{ or .a.b "safe" }}', { a: {} }), 'x|0|safe');
    assert.equal(run('{{ and false (fail "evaluated") }} {{ or true (fail "evaluated") }}'), 'false true');
  });
  it('passes the pipeline value as the last argument', () => {
    assert.equal(run('{{ "a" | printf "%s-%s" "b" }}'), 'b-a');
  });
  it('executes defined templates with their own dot and no outer variables', () => {
    assert.equal(run('{{ define "x" }}<{{ . }}>{{ end }}{{ $v := 1 }}{{ template "x" "dot" }}'), '<dot>');
    assert.throws(() => run('{{ define "x" }}{{ $v }}{{ end }}{{ $v := 1 }}{{ template "x" }}'), /undefined variable/);
    assert.throws(() => run('{{ template "missing" }}'), /no such template "missing"/);
  });
  it('stops runaway recursion', () => {
    assert.throws(() => run('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}'), /maximum template depth/);
  });
  it('compares like Go: different kinds are an error, nil compares unequal', () => {
    assert.equal(run('{{ eq 1 1 }} {{ eq "a" "b" "a" }} {{ ne .x "a" }} {{ lt 1 2 }}', {}), 'true true true true');
    assert.throws(() => run('{{ eq 1 "1" }}'), /incompatible types for comparison/);
    assert.throws(() => run('{{ len .x }}', {}), /len of type/);
  });
  it('formats with printf verbs', () => {
    assert.equal(run('{{ printf "%s %d %v %t %q %05d %x %%" "s" 42 1.5 true "q\\"" 7 255 }}'), 's 42 1.5 true "q\\"" 00007 ff %');
    assert.equal(run('{{ printf "%s" }}'), '%!s(MISSING)');
  });
  it('prints lists and maps the way fmt does', () => {
    assert.equal(run('{{ .l }} {{ .m }}', { l: [1, 'a'], m: { b: 1, a: [2] } }), '[1 a] map[a:[2] b:1]');
  });
  it('refuses arguments to a field', () => {
    assert.throws(() => run('{{ .a 1 }}', { a: 'x' }), /not a method but has arguments/);
  });
});

describe('sprig functions', () => {
  it('default and empty follow sprig', () => {
    assert.equal(run('{{ default "d" "" }} {{ default "d" 0 }} {{ default "d" "v" }} {{ "" | default "p" }} {{ empty (list) }}'), 'd d v p true');
  });
  it('string helpers', () => {
    assert.equal(run('{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trimAll "-_" "--a_b__" }} {{ upper "a" }} {{ replace "a" "b" "aa" }}'), 'abc ef a_b A bb');
    assert.equal(run('{{ quote "a\\"b" "c" }} {{ squote "x" }}'), '"a\\"b" "c" \'x\'');
    assert.equal(run('{{ splitList "," "a,b" | join "+" }}'), 'a+b');
  });
  it('lists and dicts', () => {
    assert.equal(run('{{ $l := list 1 2 }}{{ $l = append $l 3 }}{{ $l }} {{ first $l }} {{ last $l }} {{ has 2 $l }}'), '[1 2 3] 1 3 true');
    assert.equal(run('{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ toJson $d }} {{ hasKey $d "a" }} {{ get $d "zz" }}'), '{"a":1,"b":2} true ');
  });
  it('ternary, int and indent/nindent', () => {
    assert.equal(run('{{ ternary "y" "n" true }} {{ int "42" }} {{ add 1 2 }}'), 'y 42 3');
    assert.equal(run('{{ nindent 2 "a\\nb" }}'), '\n  a\n  b');
  });
});
