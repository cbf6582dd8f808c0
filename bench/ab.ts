// genlab against itself: two workers of the same training step, differing only in one environment
// variable, timed in interleaved blocks (bench/interleave.ts), as the A/B figures of results/engine.md.
//   npx tsx bench/ab.ts <vdm|glow-digits|glow-fashion|conv> <VARIABLE> <value A> <value B>
// prints the median over block pairs of B's time over A's (AB_ROUNDS rounds, default 2).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, pinToOneCore } from './common.js';
import { interleave, nodeSide } from './interleave.js';
import { digitsBenchSettings } from './vdm-settings.js';

pinToOneCore(import.meta.url);
const [which, envVar, a, b] = process.argv.slice(2);
if (b === undefined || !['vdm', 'glow-digits', 'glow-fashion', 'conv'].includes(which)) {
  throw new Error('usage: npx tsx bench/ab.ts <vdm|glow-digits|glow-fashion|conv> <VARIABLE> <value A> <value B>');
}
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
let script: string;
let args: string[];
let steps = 10;
let dir: string | null = null;
if (which === 'glow-digits' || which === 'glow-fashion') {
  const fashion = which === 'glow-fashion';
  const w = fashion
    ? { name: 'fashion', shape: [1, 28, 28], levels: 2, depth: 8, hidden: 96, batch: 64, levels_in_data: 256 }
    : { name: 'digits', shape: [1, 8, 8], levels: 2, depth: 8, hidden: 64, batch: 64, levels_in_data: 17 };
  if (fashion) steps = 3;
  script = here('./glow.ts');
  args = ['serve', '1', JSON.stringify(w)];
} else if (which === 'conv') {
  script = here('./engine.ts');
  args = ['serve', 'conv', '1'];
} else {
  dir = mkdtempSync(join(tmpdir(), 'genlab-ab-'));
  const s = digitsBenchSettings(1, dir);
  const f = join(dir, 's.json');
  writeFileSync(f, JSON.stringify(s));
  script = here('./vdm.ts');
  args = ['serve', f];
}
const side = (name: string, v: string) => {
  const s = nodeSide(name, script, args);
  return { ...s, env: { ...s.env, [envVar]: v } };
};
const ratios: number[] = [];
for (let r = 0; r < Number(process.env.AB_ROUNDS ?? 2); r++) {
  const t = await interleave([side('a', a), side('b', b)], { blocks: 8, steps, warmupBlocks: 5 });
  for (let i = 0; i < t.wall.a.length; i++) ratios.push(t.wall.b[i] / t.wall.a[i]);
  console.log(
    `${which} round ${r}: ${envVar}=${a} ${(median(t.wall.a) * 1e3).toFixed(2)} ms, =${b} ${(median(t.wall.b) * 1e3).toFixed(2)} ms`,
  );
}
const s = [...ratios].sort((x, y) => x - y);
console.log(
  `${which}: ratio (${envVar}=${b}) / (${envVar}=${a}) median ${median(ratios).toFixed(3)} p10 ${s[Math.floor(s.length * 0.1)].toFixed(3)} p90 ${s[Math.floor(s.length * 0.9)].toFixed(3)}`,
);
if (dir !== null) rmSync(dir, { recursive: true, force: true });
