// Fuzzing a run folder's JSON: config.json through each family's parser, and the checkpoint state
// (what state.json and the checkpoint's metadata hold) through parseCheckpointState and
// restoreCheckpoint.
//
// Malformed, checkably: text that is no longer JSON; a required field deleted; a field given a value
// of another JSON type; an unknown field added to a config; an RNG state cut short. Each must be
// refused with the project's own one-line error. Replacing a number by another number in range is a
// legitimate edit and may be accepted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { classifierConfig, parseClassifierConfig } from '../../src/classifier/experiment.js';
import { TensorDataset } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/loader.js';
import { parseVdmConfig, vdmConfig } from '../../src/diffusion/experiment.js';
import { flowsConfig, parseFlowsConfig } from '../../src/flows/experiment.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { Adam } from '../../src/optim/adam.js';
import { warmupCosine } from '../../src/optim/lr-scheduler.js';
import { randn } from '../../src/torch/creation.js';
import { GenlabError } from '../../src/torch/errors.js';
import { manualSeed } from '../../src/torch/random.js';
import { tidy } from '../../src/torch/scope.js';
import { captureCheckpoint, restoreCheckpoint, type TrainingParts } from '../../src/train/checkpoint.js';
import { parseCheckpointState } from '../../src/train/run.js';
import { parseVaeConfig, vaeConfig } from '../../src/vae/experiment.js';
import { Prng, Tally } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'genlab-fuzz-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `v`, parents before children. */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = at.length ? [at] : [];
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function getAt(v: Json, path: (string | number)[]): Json {
  return path.reduce<Json>((o, k) => (o as Record<string, Json>)[k as string], v);
}

function setAt(v: Json, path: (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(v);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string, Json> | Json[];
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last as string];
  } else (parent as Record<string | number, Json>)[last] = value;
  return copy;
}

const typeOf = (x: Json) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
const OTHER: Json[] = [null, true, 'x', 7, [], {}];

/** Mutations of a JSON value, each with whether a correct parser must refuse it. */
function* mutations(
  valid: Json,
  r: Prng,
  n: number,
): Generator<{ kind: string; label: string; value: string; mustRefuse: boolean }> {
  const text = JSON.stringify(valid);
  const all = paths(valid);
  for (let i = 0; i < n; i++) {
    const p = r.pick(all);
    const label = p.join('.');
    switch (r.int(4)) {
      case 0: {
        const at = r.int(text.length);
        yield { kind: 'cut text', label: `at ${at}`, value: text.slice(0, at), mustRefuse: true };
        break;
      }
      case 1: {
        // Optional fields may go, and so may an element of a list of settings such as widths, or a
        // parameter's optimizer state (a parameter that has taken no step has none).
        const last = p[p.length - 1];
        const optional =
          OPTIONAL.has(String(last)) ||
          (typeof last === 'number' && p[p.length - 2] !== 'params') ||
          p[p.length - 2] === 'state';
        yield { kind: 'delete field', label, value: JSON.stringify(setAt(valid, p, undefined)), mustRefuse: !optional };
        break;
      }
      case 2: {
        const old = getAt(valid, p);
        const other = r.pick(OTHER.filter((o) => typeOf(o) !== typeOf(old)));
        yield { kind: 'wrong type', label, value: JSON.stringify(setAt(valid, p, other)), mustRefuse: true };
        break;
      }
      default: {
        const parent = p.slice(0, -1);
        const host = getAt(valid, parent);
        if (host === null || typeof host !== 'object' || Array.isArray(host) || !STRICT(parent)) continue;
        yield {
          kind: 'unknown field',
          label,
          value: JSON.stringify(setAt(valid, [...parent, 'zzExtra'], 1)),
          mustRefuse: true,
        };
      }
    }
  }
}

/**
 * Fields that may be absent: a config's optional settings (zod .optional()), fields that configs
 * written by earlier versions lack (memoryFormat: those runs load row-major), and in a checkpoint
 * state the scheduler fields that dicts saved by earlier versions lack.
 */
const OPTIONAL = new Set([
  'memoryFormat',
  'zeroBias',
  'splitEncoder',
  'weights',
  'ica',
  'ppca',
  'brenier',
  'segments',
  'perSegment',
  'dim',
  'dataDim',
  'layers',
  'activation',
  'slope',
  'source',
  'scaleRange',
  'condThreshold',
  'condSamples',
  'repeatMatrix',
  'uncentered',
  'noise',
  'seed',
  'n',
  'trueDim',
  'loadingScale',
  'hidden1',
  'hidden2',
  'depth',
  'positivity',
  'quadratic',
  'singularRange',
  'initialLr',
  'lastLr',
  'stepCount',
]);
let STRICT: (parent: (string | number)[]) => boolean = () => true;

test('config.json: every family refuses malformed configs in one line and accepts its own', (t) => {
  const tally = new Tally('config.json');
  const r = new Prng(20261201);
  const families: [string, (raw: unknown, file: string) => unknown, Json][] = [
    ['classifier', parseClassifierConfig, classifierConfig('digits') as unknown as Json],
    ['flows', parseFlowsConfig, flowsConfig('digits') as unknown as Json],
    ['diffusion', parseVdmConfig, vdmConfig('digits') as unknown as Json],
    ['vae', parseVaeConfig, vaeConfig('lidvae', 'ica') as unknown as Json],
  ];
  STRICT = () => true;
  for (const [family, parse, valid] of families) {
    for (const m of mutations(valid, r, 150)) {
      tally.run(
        `${family}: ${m.kind}`,
        m.label,
        () => parse(JSON.parse(m.value), 'config.json'),
        (e) => e instanceof SyntaxError || e instanceof GenlabError,
        () => (m.mustRefuse ? 'it is malformed' : null),
      );
    }
  }
  tally.finish(t);
});

test('checkpoint state: malformed states are refused before anything is restored', (t) => {
  const tally = new Tally('checkpoint state');
  const r = new Prng(7);
  manualSeed(0);
  const model = new Linear(3, 2);
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  const schedule = warmupCosine(optimizer, { warmupSteps: 2, totalSteps: 10 });
  const data = new TensorDataset(randn([16, 3]), randn([16, 2]), { own: true });
  const loader = new DataLoader(data, { batchSize: 4, shuffle: true, seed: 1 });
  const parts: TrainingParts = { model, stateful: { optimizer, schedule }, loaders: { train: loader } };
  for (let i = 0; i < 3; i++) {
    tidy(() => {
      optimizer.zeroGrad();
      model.forward(loader.next().x).square().mean().backward();
      optimizer.step();
      schedule.step();
    });
  }
  const ckpt = tidy(() => {
    const c = captureCheckpoint(3, parts);
    for (const v of Object.values(c.tensors)) v.keep();
    return c;
  });
  const valid = JSON.parse(JSON.stringify(ckpt.state)) as Json;
  // A state may carry extra fields (captureCheckpoint's `extra`), and parts may ignore keys they do not know.
  STRICT = () => false;
  for (const m of mutations(valid, r, 400)) {
    tally.run(
      `state: ${m.kind}`,
      m.label,
      () =>
        tidy(() =>
          restoreCheckpoint(
            { tensors: ckpt.tensors, state: parseCheckpointState(JSON.parse(m.value), 'state.json') },
            parts,
          ),
        ),
      (e) => e instanceof SyntaxError || e instanceof GenlabError,
      () => (m.mustRefuse ? 'it is malformed' : null),
    );
  }
  tally.finish(t);
});
