// The `genlab` command: one sub-command group per family.
import { CliError } from './args.js';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<void>;
}
export type Family = { summary: string; verbs: Record<string, Command> };

async function families(): Promise<Record<string, Family>> {
  const { diffusion } = await import('./diffusion.js');
  const { flows } = await import('./flows.js');
  const { vae } = await import('./vae.js');
  const { classifier } = await import('./classifier.js');
  const { data } = await import('./data.js');
  const { runs } = await import('./runs.js');
  return { diffusion, flows, vae, classifier, data, runs };
}

function topHelp(all: Record<string, Family>): string {
  const rows = Object.entries(all).flatMap(([name, f]): [string, string][] => [
    [`  ${name}`, f.summary],
    ...Object.entries(f.verbs).map(([verb, c]): [string, string] => [`      ${verb}`, c.summary]),
  ]);
  // One summary column for families and verbs, two spaces after the longest indented name.
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  const lines = rows.map(([name, summary]) => `${name.padEnd(width)}${summary}`);
  return `genlab: probabilistic deep learning on libtorch\n\nUsage: genlab <family> <verb> [options]\n\n${lines.join('\n')}\n\nRun 'genlab <family> <verb> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const all = await families();
    const [family, verb, ...rest] = argv;
    if (!family || family === '--help' || family === '-h' || family === 'help') {
      process.stdout.write(topHelp(all));
      return 0;
    }
    const f = all[family];
    if (!f) throw new CliError(`unknown command '${family}'; one of: ${Object.keys(all).join(', ')}`, 2);
    if (!verb || verb === '--help' || verb === '-h') {
      process.stdout.write(topHelp({ [family]: f }));
      return verb ? 0 : 2;
    }
    const cmd = f.verbs[verb];
    if (!cmd) throw new CliError(`unknown verb '${family} ${verb}'; one of: ${Object.keys(f.verbs).join(', ')}`, 2);
    await cmd.run(rest);
    return Number(process.exitCode ?? 0); // 130 after an interrupted run
  } catch (e) {
    const err = e as Error;
    if (debug) process.stderr.write(`${err.stack ?? err.message}\n`);
    else process.stderr.write(`genlab: ${err.message.split('\n')[0]}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
