// Genotypes: the discrete cells a search derives (top-2 inputs per node, DARTS §2.4), saved as
// hand-editable JSON and checked entry by entry when read back.
import { readFileSync, writeFileSync } from 'node:fs';
import { GenlabError } from '../torch/errors.js';
import { ALL_OPS, isOpName, type OpName } from './ops.js';

/** One input of a node: the op applied to a state (0, 1: the cell's inputs; 2…: earlier nodes). */
export type Edge = [op: OpName, from: number];
/** A cell: each intermediate node sums its two (or more) edges; `concat` lists the states output. */
export interface CellGenotype {
  nodes: Edge[][];
  concat: number[];
}
export interface Genotype {
  normal: CellGenotype;
  reduce: CellGenotype;
}

/** As JSON: `{"normal": [[["sep_conv_3x3", 0], ["skip_connect", 1]], …], "normal_concat": [2, 3, 4, 5], …}`. */
export function genotypeToJson(g: Genotype): string {
  const cell = (c: CellGenotype) => `[\n${c.nodes.map((n) => `    ${JSON.stringify(n)}`).join(',\n')}\n  ]`;
  return (
    `{\n  "normal": ${cell(g.normal)},\n  "normal_concat": ${JSON.stringify(g.normal.concat)},\n` +
    `  "reduce": ${cell(g.reduce)},\n  "reduce_concat": ${JSON.stringify(g.reduce.concat)}\n}\n`
  );
}

function bad(where: string, detail: string): never {
  throw new GenlabError(
    'config',
    `${where}: ${detail}`,
    'each node is a list of [op, input] pairs; inputs are 0, 1 or an earlier node',
  );
}

function parseCell(raw: unknown, concatRaw: unknown, kind: 'normal' | 'reduce', file: string): CellGenotype {
  const at = `${file}: ${kind}`;
  if (!Array.isArray(raw) || raw.length === 0) bad(at, 'expected a non-empty list of nodes');
  const nodes: Edge[][] = [];
  raw.forEach((node: unknown, i: number) => {
    const id = i + 2;
    if (!Array.isArray(node) || node.length === 0) bad(`${at} node ${id}`, 'expected a list of [op, input] pairs');
    nodes.push(
      node.map((e: unknown, j: number): Edge => {
        const where = `${at} node ${id} input ${j + 1}`;
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !Number.isInteger(e[1])) {
          bad(where, `expected [op, input], got ${JSON.stringify(e)}`);
        }
        const [op, from] = e as [string, number];
        if (!isOpName(op)) bad(where, `unknown op '${op}' (one of ${ALL_OPS.join(', ')})`);
        if (from < 0 || from >= raw.length + 2) bad(where, `input ${from} is out of range 0…${raw.length + 1}`);
        return [op, from];
      }),
    );
  });
  // An input from the node itself or a later node makes the cell a cycle (or a forward reference).
  nodes.forEach((node, i) => {
    node.forEach(([op, from], j) => {
      if (from >= i + 2) {
        const path = cycleFrom(nodes, i + 2);
        const detail = path
          ? `'${op}' from node ${from} closes the cycle ${path.join(' → ')}`
          : `'${op}' from node ${from}, which is not an earlier node`;
        bad(`${at} node ${i + 2} input ${j + 1}`, detail);
      }
    });
  });
  const states = nodes.length + 2;
  if (!Array.isArray(concatRaw) || concatRaw.length === 0)
    bad(`${file}: ${kind}_concat`, 'expected a non-empty list of states');
  for (const [k, s] of concatRaw.entries()) {
    if (!Number.isInteger(s) || s < 0 || s >= states)
      bad(`${file}: ${kind}_concat entry ${k + 1}`, `state ${JSON.stringify(s)} is out of range 0…${states - 1}`);
  }
  return { nodes, concat: concatRaw as number[] };
}

/** A cycle through `start` following inputs (node → its input nodes), as a list of node ids, or null. */
function cycleFrom(nodes: Edge[][], start: number): number[] | null {
  const walk = (at: number, path: number[]): number[] | null => {
    for (const [, from] of nodes[at - 2]) {
      if (from < 2) continue;
      if (from === start) return [...path, from];
      if (path.includes(from)) continue;
      const found = walk(from, [...path, from]);
      if (found) return found;
    }
    return null;
  };
  return walk(start, [start]);
}

/** Checks a parsed JSON value as a genotype; `file` names it in messages. */
export function parseGenotype(raw: unknown, file = 'genotype'): Genotype {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    bad(file, 'expected an object with normal, normal_concat, reduce, reduce_concat');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['normal', 'normal_concat', 'reduce', 'reduce_concat'].includes(k)) bad(file, `unknown entry '${k}'`);
  }
  return {
    normal: parseCell(o.normal, o.normal_concat, 'normal', file),
    reduce: parseCell(o.reduce, o.reduce_concat, 'reduce', file),
  };
}

export function readGenotype(file: string): Genotype {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new GenlabError('config', `${file}: cannot read a genotype (${(e as Error).message})`);
  }
  return parseGenotype(raw, file);
}

export function writeGenotype(file: string, g: Genotype): void {
  writeFileSync(file, genotypeToJson(g));
}

/**
 * The discrete cell of softmax weights `w` ([edges][ops], edges in DARTS's order: node 0's inputs
 * 0, 1, node 1's inputs 0, 1, 2, …): each node keeps the two inputs whose strongest op other than
 * 'none' is strongest, with that op.
 */
export function deriveCell(w: number[][], ops: readonly OpName[], steps: number): CellGenotype {
  const nodes: Edge[][] = [];
  let start = 0;
  for (let i = 0; i < steps; i++) {
    const n = i + 2;
    const best = w.slice(start, start + n).map((row, from) => {
      let k = -1;
      for (let o = 0; o < ops.length; o++) if (ops[o] !== 'none' && (k < 0 || row[o] > row[k])) k = o;
      return { from, op: ops[k], weight: row[k] };
    });
    best.sort((a, b) => b.weight - a.weight || a.from - b.from);
    nodes.push(
      best
        .slice(0, 2)
        .sort((a, b) => a.from - b.from)
        .map((b): Edge => [b.op, b.from]),
    );
    start += n;
  }
  return { nodes, concat: Array.from({ length: steps }, (_, i) => i + 2) };
}

/** How many of a genotype's edges are skip connections, per cell type. */
export function countSkips(g: Genotype): { normal: number; reduce: number } {
  const count = (c: CellGenotype) => c.nodes.flat().filter(([op]) => op === 'skip_connect').length;
  return { normal: count(g.normal), reduce: count(g.reduce) };
}
