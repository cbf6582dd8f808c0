// Runs the parity suite and writes results/parity.md: `npx tsx test/parity/report.ts`
// (`--dry` prints the summary without writing the file).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PARITY_HEADING } from '../../bench/common.js';
import { runParity, type Verdict } from './harness.js';
import { KNOWN } from './known.js';

const COMMAND = 'npx tsx test/parity/report.ts';

function main(): Promise<void> {
  return runParity().then((run) => {
    const verdicts = run.verdicts.filter((v) => !v.c.mustCrash);
    const crashChecks = run.verdicts.filter((v) => v.c.mustCrash);
    const statuses = ['exact', 'tol', 'documented', 'known-changed', 'undocumented'] as const;
    const count = (vs: Verdict[], s: string) => vs.filter((v) => v.status === s).length;
    const categories = [...new Set(verdicts.map((v) => v.c.category))];
    const lines: string[] = [];
    lines.push('# Parity with PyTorch 1.13');
    lines.push('');
    lines.push(
      `genlab against Debian's PyTorch 1.13 (\`/usr/bin/python3\`, the same libtorch) on ${verdicts.length} seeded cases ` +
        '(`test/parity/cases.ts`), each run on both sides with identical input bytes and one thread. ' +
        'Values, dtypes, shapes, NaN positions and the sign of zero are compared bit for bit (any NaN matches any NaN) ' +
        'unless a case states a tolerance; so is whether an error is raised, and for differentiable float cases the ' +
        'gradients of a seeded weighted sum of the first output. The suite runs in `npm test` as `test/parity/parity.test.ts`.',
    );
    lines.push('');
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'native').split('\n').filter(Boolean).length;
    lines.push(
      `Regenerate with \`${COMMAND}\`. This run: ${new Date().toISOString().slice(0, 16)}Z, ${run.seconds.toFixed(1)} s wall clock (genlab side ${run.jsSeconds.toFixed(1)} s, PyTorch side ${run.pySeconds.toFixed(1)} s, concurrently; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores), ${run.jsRestarts} genlab runner restart(s) after a crash. Code: commit ${head}${dirty ? ` plus ${dirty} uncommitted file(s) in src/ and native/ (work in progress when this ran)` : ''}.`,
    );
    lines.push('');
    lines.push(
      '| category | cases | bit for bit | within tolerance | documented difference | documented, changed | undocumented |',
    );
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const cat of [...categories, 'all']) {
      const vs = cat === 'all' ? verdicts : verdicts.filter((v) => v.c.category === cat);
      const cells = statuses.map((s) => count(vs, s));
      const name = cat === 'all' ? '**all**' : cat;
      lines.push(`| ${name} | ${vs.length} | ${cells.join(' | ')} |`);
    }
    const bothRaise = verdicts.filter((v) => v.status === 'exact' && v.js.out.k === 'err').length;
    const withGrads = verdicts.filter(
      (v) => Array.isArray(v.js.grads) && Array.isArray(v.py.grads) && v.js.grads.some((g) => g !== null),
    );
    const leaves = withGrads.reduce((n, v) => n + (v.js.grads as unknown[]).filter((g) => g !== null).length, 0);
    lines.push('');
    lines.push(
      `Of the bit-for-bit cases, ${bothRaise} are inputs on which both raise an error. ${withGrads.length} cases also compared ` +
        `the gradients of ${leaves} leaves. Not counted above: ` +
        `${crashChecks.length} harness self-check case that kills the genlab runner on purpose ` +
        `(${crashChecks.every((v) => v.status === 'crash-check') ? 'recorded as a crash, and the runner restarted after it' : 'FAILED'}).`,
    );
    lines.push('');
    lines.push(
      '"Documented, changed" counts cases of a documented difference that no longer behave as documented (fixed, or different in another way): `known.ts` needs updating.',
    );
    lines.push('');
    lines.push('## Documented differences');
    lines.push('');
    lines.push('| difference | source | state in this run | cases | explanation |');
    lines.push('|---|---|---|---|---|');
    for (const [key, k] of Object.entries(KNOWN)) {
      const vs = verdicts.filter((v) => v.c.known === key);
      const state = k.fixed
        ? 'fixed (agrees)'
        : vs.every((v) => v.status === 'documented')
          ? 'still differs'
          : vs.every((v) => v.status === 'known-changed')
            ? 'no longer as documented'
            : 'mixed';
      const ids = vs.map((v) => `\`${v.c.id}\``).join(', ');
      lines.push(`| ${k.title} | ${k.source} | ${state} | ${ids} | ${k.explanation.replaceAll('|', '\\|')} |`);
    }
    const bad = verdicts.filter((v) => v.status === 'undocumented' || v.status === 'known-changed');
    if (bad.length) {
      lines.push('');
      lines.push('## Failing cases');
      lines.push('');
      for (const v of bad) lines.push(`- \`${v.c.id}\` (${v.status}): ${v.why.replaceAll('|', '\\|')}`);
    }
    lines.push('');
    const text = lines.join('\n');
    if (!process.argv.includes('--dry')) {
      writeFileSync(fileURLToPath(new URL('../../results/parity.md', import.meta.url)), text);
      writeEngineSection(verdicts, count);
    }
    console.log(text);
  });
}

/** The counts in results/engine.md too, under the heading that bench/engine.ts keeps when it rewrites the file. */
function writeEngineSection(verdicts: Verdict[], count: (vs: Verdict[], s: string) => number): void {
  const file = fileURLToPath(new URL('../../results/engine.md', import.meta.url));
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Engine benchmark\n';
  const at = old.indexOf(PARITY_HEADING);
  const section = `${PARITY_HEADING}\n\n\`${COMMAND}\`, ${new Date().toISOString().slice(0, 10)}: ${verdicts.length} cases against PyTorch 1.13; ${count(verdicts, 'exact')} agree bit for bit, ${count(verdicts, 'tol')} within a stated tolerance, ${count(verdicts, 'documented')} are documented differences, ${count(verdicts, 'known-changed') + count(verdicts, 'undocumented')} fail. Details in \`results/parity.md\`.\n`;
  writeFileSync(file, `${(at >= 0 ? old.slice(0, at) : `${old.trimEnd()}\n\n`) + section}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
