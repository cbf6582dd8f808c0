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
    arityCheck(full, sig.length),
    ...(options.length > 0
      ? [
          `  if (o !== undefined && typeof o !== 'object') $notOptions(${JSON.stringify(full)}, ${JSON.stringify(options.map((a) => camel(a.name)).join(', '))}, o);`,
        ]
      : []),
    `  if (${idVar} < 0) ${idVar} = $N.lookup(${JSON.stringify(s.name)}, ${JSON.stringify(s.overload)});`,
  ];
  const call = `$N.call(${[idVar, ...callArgs].join(', ')})`;
  if (ret === 'undefined') lines.push(`  ${call};`);
  else if (s.returnsWrittenAlias) lines.push(`  ${call};`, `  return ${ret};`);
  else if (ret === 'r') lines.push(`  return ${call};`);
  else lines.push(`  const r = ${call};`, `  return ${ret};`);
  lines.push('}');
  return lines.join('\n');
}

/**
 * Refuses extra positional arguments, which JavaScript would otherwise drop silently (an option
 * passed positionally, say). Reading arguments.length costs nothing measurable: V8 does not
 * materialise the arguments object for it.
 */
function arityCheck(op: string, max: number): string {
  return `  if (arguments.length > ${max}) $tooMany(${JSON.stringify(op)}, ${max}, arguments.length);`;
}

/** A positional argument of a schema, as the dispatch generator compares them. */
function positionalKey(a: NativeArg): string {
  if (!a.optional && (a.kind === 'Tensor' || a.kind === 'Scalar')) return 'T|S';
  return `${a.name}:${a.kind}:${a.type}:${a.optional}:${a.n}`;
}

function isTensorOrScalar(a: NativeArg): boolean {
  return !a.optional && (a.kind === 'Tensor' || a.kind === 'Scalar');
}

interface Dispatcher {
  name: string;
  text: string;
}

/**
 * Overload-dispatching functions. Overloads of one operator that differ only in taking a Tensor or a
 * Scalar at some positional arguments (same other arguments, same options, same results) form a
 * group; its dispatcher takes `Tensor | number | boolean` there and calls the overload that matches
 * which arguments are tensors (`instanceof`, no allocation). The dispatcher is named after the
 * operator plus the overload-name parts all members share, ignoring `Tensor` and `Scalar`:
 * add.Tensor/add.Scalar give `add`, div.Tensor_mode/div.Scalar_mode give `div_mode`,
 * add_.Tensor/add_.Scalar give `add_`. When that name is already a wrapper's, `_TensorOrScalar` is
 * appended (where.self/ScalarOther/ScalarSelf/Scalar give `where_TensorOrScalar`, as `where` is
 * aten::where(Tensor condition)).
 */
function dispatchers(chosen: { s: NativeSchema; fn: string }[], taken: Set<string>): Dispatcher[] {
  const groups = new Map<string, { s: NativeSchema; fn: string }[]>();
  for (const m of chosen) {
    const positional = m.s.args.filter((a) => a.default === undefined);
    if (!positional.some(isTensorOrScalar)) continue;
    const options = m.s.args.filter((a) => a.default !== undefined);
    const key = [
      m.s.name,
      positional.map(positionalKey).join(','),
      options.map((a) => `${a.name}:${a.kind}:${a.type}:${JSON.stringify(a.default)}`).join(','),
      returnType(m.s),
      m.s.returnsWrittenAlias,
    ].join('|');
    const g = groups.get(key);
    if (g) g.push(m);
    else groups.set(key, [m]);
  }
  const out: Dispatcher[] = [];
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const first = members[0].s;
    const positional = (s: NativeSchema) => s.args.filter((a) => a.default === undefined);
    const slots = positional(first)
      .map((_a, i) => i)
      .filter((i) => isTensorOrScalar(positional(first)[i]));
    const varying = slots.filter((i) => members.some((m) => positional(m.s)[i].kind !== positional(first)[i].kind));
    if (varying.length === 0) continue;
    const byCombo = new Map<string, { s: NativeSchema; fn: string }>();
    for (const m of members) {
      const combo = varying.map((i) => (positional(m.s)[i].kind === 'Tensor' ? 'T' : 'S')).join('');
      if (byCombo.has(combo)) byCombo.set(combo, { s: m.s, fn: '' });
      else byCombo.set(combo, m);
    }
    if ([...byCombo.values()].some((m) => m.fn === '')) continue;
    const tokens = (o: string) => o.split('_').filter((t) => t !== '' && t !== 'Tensor' && t !== 'Scalar');
    const shared = tokens(first.overload).filter((t) => members.every((m) => tokens(m.s.overload).includes(t)));
    const base = camel(first.name.replace(/^aten::/, ''));
    let name = withSuffix(base, shared);
    if (reserved.has(name)) name = `${name}_`;
    if (taken.has(name)) name = withSuffix(base, [...shared, 'TensorOrScalar']);
    if (taken.has(name)) continue;
    taken.add(name);
    out.push({ name, text: emitDispatcher(name, members, varying) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** base plus `_part` suffixes, an in-place operator's trailing underscores moved to the end (`div_` + mode: `div_mode_`). */
function withSuffix(base: string, parts: string[]): string {
  if (parts.length === 0 || base.startsWith('__')) return parts.length === 0 ? base : `${base}_${parts.join('_')}`;
  const trail = /_+$/.exec(base)?.[0] ?? '';
  return `${base.slice(0, base.length - trail.length)}_${parts.join('_')}${trail}`;
}

function emitDispatcher(name: string, members: { s: NativeSchema; fn: string }[], varying: number[]): string {
  const first = members[0].s;
  const positional = first.args.filter((a) => a.default === undefined);
  const options = first.args.filter((a) => a.default !== undefined);
  const tensorName = (i: number) => {
    const m = members.find((x) => x.s.args.filter((a) => a.default === undefined)[i].kind === 'Tensor');
    return paramName((m ?? members[0]).s.args.filter((a) => a.default === undefined)[i]);
  };
  let names = positional.map((a, i) => (varying.includes(i) ? tensorName(i) : paramName(a)));
  if (new Set(names).size < names.length) names = names.map((n, i) => (varying.includes(i) ? `${n}${i}` : n));
  const sig = positional.map((a, i) =>
    varying.includes(i) ? `${names[i]}: Tensor | number | boolean` : `${names[i]}: ${tsType(a)}`,
  );
  if (options.length > 0) {
    sig.push(`o?: { ${options.map((a) => `${camel(a.name)}?: ${tsType(a)}`).join('; ')} }`);
  }
  const callOf = (m: { s: NativeSchema; fn: string }) => {
    const pos = m.s.args.filter((a) => a.default === undefined);
    const args = names.map((n, i) =>
      varying.includes(i) ? `${n} as ${pos[i].kind === 'Tensor' ? 'Tensor' : 'number | boolean'}` : n,
    );
    if (options.length > 0) args.push('o');
    return `${m.fn}(${args.join(', ')})`;
  };
  const combo = (m: { s: NativeSchema }) =>
    varying.map((i) => m.s.args.filter((a) => a.default === undefined)[i].kind === 'Tensor');
  const overloads = members.map((m) => `\`${m.fn}\``).join(', ');
  const lines = [
    '/**',
    ` * \`${first.name}\` with ${varying.map((i) => `\`${names[i]}\``).join(' and ')} a Tensor or a number: calls ${overloads}`,
    ' * according to which of them are tensors.',
    ' */',
    `export function ${name}(${sig.join(', ')}): ${returnType(first)} {`,
    arityCheck(first.name, sig.length),
  ];
  if (varying.length === 1) {
    const t = members.find((m) => combo(m)[0]);
    const sc = members.find((m) => !combo(m)[0]);
    lines.push(`  return ${names[varying[0]]} instanceof Tensor ? ${callOf(t!)} : ${callOf(sc!)};`);
  } else {
    varying.forEach((i, k) => {
      lines.push(`  const t${k} = ${names[i]} instanceof Tensor;`);
    });
    for (const m of members) {
      const cond = combo(m)
        .map((isT, k) => (isT ? `t${k}` : `!t${k}`))
        .join(' && ');
      lines.push(`  if (${cond}) return ${callOf(m)};`);
    }
    lines.push(
      `  throw new TypeError(${JSON.stringify(`${first.name}: no overload takes this mix of tensors and numbers for ${varying.map((i) => names[i]).join(', ')}`)});`,
    );
  }
  lines.push('}');
  return lines.join('\n');
}

/**
 * Readable aliases. An in-place operator's name ends in `_`, and the wrapper name then adds
 * `_<overload>`, giving `add__Tensor` or `_foreachAddcdiv__ScalarList`. Each such wrapper also gets an
 * alias with the in-place underscore moved to the end, after the overload: `add_Tensor_`,
 * `_foreachAddcdiv_ScalarList_` (unless that name is taken). Python-style dunder operators
 * (`__iand__`) get none.
 */
function aliases(chosen: { s: NativeSchema; fn: string }[], taken: Set<string>): [string, string][] {
  const out: [string, string][] = [];
  for (const { s, fn } of chosen) {
    if (!s.overload) continue;
    const base = camel(s.name.replace(/^aten::/, ''));
    if (base.startsWith('__') || !base.endsWith('_')) continue;
    const alias = withSuffix(base, [s.overload]);
    if (taken.has(alias) || reserved.has(alias)) continue;
    taken.add(alias);
    out.push([fn, alias]);
  }
  return out.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

export function generateOps(schemas: NativeSchema[], torchVersion: string): string {
  const chosen = schemas.filter(include).sort((a, b) => {
    const x = functionName(a);
    const y = functionName(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const seen = new Set<string>();
  const bodies: string[] = [];
  const emitted: { s: NativeSchema; fn: string }[] = [];
  for (const s of chosen) {
    const fn = functionName(s);
    if (seen.has(fn)) continue;
    seen.add(fn);
    bodies.push(emit(s));
    emitted.push({ s, fn });
  }
  const dispatch = dispatchers(emitted, seen);
  const renamed = aliases(emitted, seen);
  const header = [
    `// Generated by scripts/gen-ops.ts from the operator schemas of libtorch ${torchVersion}. Do not edit.`,
    '// One function per ATen overload: required arguments are positional, defaulted ones go in `o`.',
    '/* eslint-disable */',
    "import type { DType, Device, MemoryFormat } from '../dtype.js';",
    "import { dtypeName } from '../dtype.js';",
    "import { N as $N } from '../native.js';",
    "import type { Generator } from '../random.js';",
    "import { Tensor, dt, gen, mf, th, ths, wrap, wrapAll } from '../tensor.js';",
    '',
    `/** Number of wrapped overloads. */`,
    `export const OP_COUNT = ${bodies.length};`,
    '',
    '/** Every wrapper refuses more positional arguments than it declares. */',
    'function $tooMany(op: string, max: number, got: number): never {',
    '  throw new TypeError(',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: generated code
    '    `${op} takes at most ${max} argument${max === 1 ? "" : "s"} (defaulted ones go in the options object), got ${got}`,',
    '  );',
    '}',
    '',
    '/** An argument where the options object goes, but not an object: a defaulted argument passed positionally. */',
    'function $notOptions(op: string, names: string, got: unknown): never {',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: generated code
    '  throw new TypeError(`${op}: its defaulted arguments (${names}) go in an options object, got ${String(got)}`);',
    '}',
    '',
  ];
  const dispatchPart = [
    '// ---- Scalar/Tensor dispatch: one function per group of overloads that differ only there ----',
    '// (see dispatchers() in scripts/gen-ops.ts for the naming rule)',
    '',
    dispatch.map((d) => d.text).join('\n\n'),
  ].join('\n');
  const aliasPart = [
    '// ---- Readable aliases: the in-place underscore after the overload name (add__Tensor = add_Tensor_) ----',
    ...renamed.map(([fn, alias]) => `export { ${fn} as ${alias} };`),
  ].join('\n');
  return `${header.join('\n')}\n${bodies.join('\n\n')}\n\n${dispatchPart}\n\n${aliasPart}\n`;
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
