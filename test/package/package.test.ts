// genlab as a user gets it: `npm pack`, installed into an empty project, then used from plain Node,
// from strict TypeScript and through `npx genlab`. Slow (a pack and an install), so scripts/test.sh
// runs it as a stage of its own, after the unit suite.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(root, 'node_modules', '.bin', 'tsc');
/** The size budget of the tarball: compiled code, the prebuilt addon, the digits and feature nets. */
const PACKED_BUDGET = 4_000_000;
const UNPACKED_BUDGET = 12_000_000;

const work = mkdtempSync(join(tmpdir(), 'genlab-package-'));
const project = join(work, 'consumer');
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

function readmeFirstExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## A first example')));
  assert.ok(block, 'README has a first example');
  return block[1];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(cmd, args, { cwd: project, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
}

describe('the npm package, installed into an empty project', () => {
  before(() => {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    [packed] = JSON.parse(out);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        join(work, packed.filename),
        '@types/node@20',
      ],
      { cwd: project, stdio: 'ignore' },
    );
  });

  test('the tarball holds the compiled code, the prebuild and the data licence, no tests, benches or results, within its size budget', () => {
    const paths = packed.files.map((f) => f.path);
    for (const want of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/dashboard/page/index.html',
      'native/prebuilds/linux-x64/genlab.napi.glibc.node',
      'data/digits/README.md',
      'LICENSE',
    ]) {
      assert.ok(paths.includes(want), `${want} is in the tarball`);
    }
    const stray = paths.filter((p) => /^(test|bench|results|src|runs|scripts)\//.test(p));
    assert.deepEqual(stray, []);
    assert.ok(packed.size <= PACKED_BUDGET, `packed ${packed.size} B, budget ${PACKED_BUDGET} B`);
    assert.ok(packed.unpackedSize <= UNPACKED_BUDGET, `unpacked ${packed.unpackedSize} B, budget ${UNPACKED_BUDGET} B`);
  });

  test("the README's first example runs under plain node as .mjs", () => {
    writeFileSync(join(project, 'first.mjs'), readmeFirstExample());
    const r = run(process.execPath, ['first.mjs']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tensor\(\[\[2\., 4\.\],\n\s+\[6\., 8\.\]\]\)/);
    const losses = [...r.stdout.matchAll(/step \d+: loss ([\d.]+)/g)].map((m) => Number(m[1]));
    assert.equal(losses.length, 3);
    assert.ok(losses[2] < 0.01, `loss falls below 0.01: ${losses}`);
  });

  test('a strict TypeScript consumer type-checks against the shipped declarations, and a misuse is caught', () => {
    copyFileSync(join(project, 'node_modules', 'genlab', 'templates', 'tsconfig.json'), join(project, 'tsconfig.json'));
    writeFileSync(
      join(project, 'good.ts'),
      "import { nn, optim, torch } from 'genlab';\n\nconst net = new nn.Linear(4, 2);\nconst opt = new optim.SGD(net.parameters(), { lr: 0.1 });\nconst y: torch.Tensor = net.forward(torch.randn([3, 4]));\nopt.zeroGrad();\nconsole.log(y.shape);\n",
    );
    writeFileSync(
      join(project, 'bad.ts'),
      "import { torch } from 'genlab';\n\nconst n: string = torch.zeros([2]).numel();\n",
    );
    const r = run(TSC, ['--noEmit', '-p', project]);
    const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
    assert.equal(errors.length, 1, r.stdout);
    assert.match(errors[0], /^bad\.ts\(3,7\): error TS2322/);
  });

  test('npx genlab --help and npx genlab doctor --json run from the installed package, on the prebuild and tcmalloc', () => {
    const help = run('npx', ['genlab', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^genlab: probabilistic deep learning on libtorch/);
    const doctor = run('npx', ['genlab', 'doctor', '--json']);
    assert.equal(doctor.status, 0, doctor.stderr);
    const d = JSON.parse(doctor.stdout);
    assert.equal(d.addon.loadedAs, 'prebuild');
    assert.match(d.addon.path, /node_modules\/genlab\/native\/prebuilds\/linux-x64\//);
    assert.match(d.libtorch.version, /^1\.13\./);
    assert.match(d.dataSets.digits, /^embedded/);
    // The installed command is the shell launcher, which preloads tcmalloc (bin/genlab).
    assert.match(d.malloc, /libtcmalloc_minimal\.so/);
  });

  test('LIBTORCH naming a folder without libtorch: one line that names the cause, from the command and from an import', () => {
    const empty = mkdtempSync(join(work, 'no-libtorch-'));
    const cli = run('npx', ['genlab', 'doctor'], { LIBTORCH: empty });
    assert.equal(cli.status, 1);
    assert.equal(cli.signal, null);
    const lines = cli.stderr.trim().split('\n');
    assert.equal(lines.length, 1, cli.stderr);
    assert.equal(
      lines[0],
      `genlab: LIBTORCH=${empty} holds no libtorch (no lib/libtorch.so); point it at an unpacked libtorch, or unset it to use Debian's libtorch-dev`,
    );
    const lib = run(process.execPath, ['first.mjs'], { LIBTORCH: empty });
    assert.equal(lib.status, 1);
    assert.equal(lib.signal, null);
    assert.match(lib.stderr, /Error: genlab: LIBTORCH=.* holds no libtorch/);
  });
});
