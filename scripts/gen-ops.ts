// Generates src/torch/generated/ops.ts: one typed wrapper per ATen operator overload, read from the
// schemas of the libtorch the addon runs on. `npm run gen:ops` rewrites it; a test checks it is fresh.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeArg, NativeSchema } from '../src/torch/native.js';

const reserved = new Set([
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
  'await',
  'arguments',
  'eval',
]);

/** snake_case to camelCase, keeping leading and trailing underscores (`_log_softmax_` stays recognisable). */
export function camel(name: string): string {
  const lead = /^_*/.exec(name)?.[0] ?? '';
  const trail = /_*$/.exec(name.slice(lead.length))?.[0] ?? '';
  const core = name.slice(lead.length, name.length - trail.length);
  return lead + core.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase()) + trail;
}

export function functionName(s: { name: string; overload: string }): string {
  const base = camel(s.name.replace(/^aten::/, ''));
  const name = s.overload ? `${base}_${s.overload}` : base;
  return reserved.has(name) ? `${name}_` : name;
}

function paramName(a: NativeArg): string {
  const n = camel(a.name);
  return reserved.has(n) ? `${n}_` : n;
}

function include(s: NativeSchema): boolean {
  if (!s.name.startsWith('aten::') || !s.supported) return false;
  // out= variants and named-tensor (Dimname) overloads are left out: genlab returns new tensors.
  if (s.args.some((a) => a.isWrite && a.kwargOnly)) return false;
  if (/(^|_)(names|dimname|Dimname)(_|$)/.test(s.overload)) return false;
  if (s.returns.some((r) => r.kind === 'unsupported')) return false;
  return true;
}

function tsType(a: NativeArg): string {
  const nullable = a.optional ? ' | null' : '';
  switch (a.kind) {
    case 'Tensor':
      return `Tensor${nullable}`;
    case 'Tensor[]':
      return 'Tensor[]';
    case 'Tensor?[]':
      return '(Tensor | null)[]';
    case 'int':
      if (a.type.includes('ScalarType')) return `DType${nullable}`;
      if (a.type.includes('MemoryFormat')) return `MemoryFormat${nullable}`;
      return `number${nullable}`;
    case 'int[]':
      return `${a.n > 0 ? 'number | number[]' : 'number[]'}${nullable}`;
    case 'float':
      return `number${nullable}`;
    case 'float[]':
      return `number[]${nullable}`;
    case 'bool':
      return `boolean${nullable}`;
    case 'bool[]':
      return `boolean[]${nullable}`;
    case 'Scalar':
      return `number | boolean${nullable}`;
    case 'Scalar[]':
      return `number[]${nullable}`;
    case 'str':
      return `string${nullable}`;
    case 'str[]':
      return `string[]${nullable}`;
    case 'Device':
      return `Device${nullable}`;
    case 'Generator':
      return `Generator${nullable}`;
    default:
      throw new Error(`no TypeScript type for ${a.kind}`);
  }
}

function convert(a: NativeArg, expr: string): string {
  switch (a.kind) {
    case 'Tensor':
      return `th(${expr})`;
    case 'Tensor[]':
    case 'Tensor?[]':
      return `ths(${expr})`;
    case 'int':
      if (a.type.includes('ScalarType')) return `dt(${expr})`;
      if (a.type.includes('MemoryFormat')) return `mf(${expr})`;
      return expr;
    case 'Generator':
      return `gen(${expr})`;
    default:
      return expr;
  }
}

function returnType(s: NativeSchema): string {
  const one = (r: NativeSchema['returns'][number]): string => {
    switch (r.kind) {
      case 'Tensor':
        return 'Tensor';
      case 'Tensor[]':
        return 'Tensor[]';
      case 'int':
        return r.type.includes('ScalarType') ? 'DType' : 'number';
      case 'float':
      case 'Scalar':
        return 'number';
      case 'bool':
        return 'boolean';
      case 'int[]':
        return 'number[]';
      default:
        throw new Error(`no return type for ${r.kind}`);
    }
  };
  if (s.returns.length === 0) return 'void';
  if (s.returns.length === 1) return one(s.returns[0]);
  return `[${s.returns.map(one).join(', ')}]`;
}

function returnExpr(s: NativeSchema, params: Map<string, string>): string {
  if (s.returnsWrittenAlias) {
    const written = s.args.find((a) => a.isWrite);
    return written ? (params.get(written.name) ?? 'undefined') : 'undefined';
  }
  const one = (r: NativeSchema['returns'][number], expr: string): string => {
    if (r.kind === 'Tensor') return `wrap(${expr})`;
    if (r.kind === 'Tensor[]') return `wrapAll(${expr})`;
    if (r.kind === 'int' && r.type.includes('ScalarType')) return `dtypeName(${expr})`;
    return expr;
  };
  if (s.returns.length === 0) return 'undefined';
  if (s.returns.length === 1) return one(s.returns[0], 'r');
  return `[${s.returns.map((r, i) => one(r, `r[${i}]`)).join(', ')}]`;
}

function emit(s: NativeSchema): string {
  const fn = functionName(s);
  const idVar = `id_${fn}`;
  const positional = s.args.filter((a) => a.default === undefined);
  const options = s.args.filter((a) => a.default !== undefined);
  const params = new Map<string, string>();
  const sig: string[] = [];
  for (const a of positional) {
    const p = paramName(a);
    params.set(a.name, p);
    sig.push(`${p}: ${tsType(a)}`);
  }
  if (options.length > 0) {
    const fields = options.map((a) => `${camel(a.name)}?: ${tsType(a)}`).join('; ');
    sig.push(`o?: { ${fields} }`);
    for (const a of options) params.set(a.name, `o?.${camel(a.name)}`);
  }
  const callArgs = s.args.map((a) => convert(a, params.get(a.name) ?? 'undefined'));
  const rt = returnType(s);
  const ret = returnExpr(s, params);
  const full = s.overload ? `${s.name}.${s.overload}` : s.name;
  const defaults = options.map((a) => `${camel(a.name)}=${JSON.stringify(a.default)}`).join(', ');
  const lines = [
    `let ${idVar} = -1;`,
    '/**',
    ` * \`${s.schema.replace(/\*\//g, '* /')}\``,
    ...(defaults ? [` * Options default to: ${defaults}.`] : []),
    ' */',
    `export function ${fn}(${sig.join(', ')}): ${rt} {`,
    `  if (${idVar} < 0) ${idVar} = $N.lookup(${JSON.stringify(s.name)}, ${JSON.stringify(s.overload)});`,
  ];
  const call = `$N.call(${[idVar, ...callArgs].join(', ')})`;
  if (ret === 'undefined') lines.push(`  ${call};`);
  else if (s.returnsWrittenAlias) lines.push(`  ${call};`, `  return ${ret};`);
  else if (ret === 'r') lines.push(`  return ${call};`);
  else lines.push(`  const r = ${call};`, `  return ${ret};`);
  lines.push('}');
  void full;
  return lines.join('\n');
}

export function generateOps(schemas: NativeSchema[], torchVersion: string): string {
  const chosen = schemas.filter(include).sort((a, b) => {
    const x = functionName(a);
    const y = functionName(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const seen = new Set<string>();
  const bodies: string[] = [];
  for (const s of chosen) {
    const fn = functionName(s);
    if (seen.has(fn)) continue;
    seen.add(fn);
    bodies.push(emit(s));
  }
  const header = [
    `// Generated by scripts/gen-ops.ts from the operator schemas of libtorch ${torchVersion}. Do not edit.`,
    '// One function per ATen overload: required arguments are positional, defaulted ones go in `o`.',
    '/* eslint-disable */',
    "import type { DType, Device, MemoryFormat } from '../dtype.js';",
    "import { dtypeName } from '../dtype.js';",
    "import { N as $N } from '../native.js';",
    "import type { Generator } from '../random.js';",
    "import { type Tensor, dt, gen, mf, th, ths, wrap, wrapAll } from '../tensor.js';",
    '',
    `/** Number of wrapped overloads. */`,
    `export const OP_COUNT = ${bodies.length};`,
    '',
  ];
  return `${header.join('\n')}\n${bodies.join('\n\n')}\n`;
}

async function main(): Promise<void> {
  const { N } = await import('../src/torch/native.js');
  const here = dirname(fileURLToPath(import.meta.url));
  const out = join(here, '..', 'src', 'torch', 'generated', 'ops.ts');
  const text = generateOps(N.listSchemas(), N.runtimeInfo().builtAgainst);
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
