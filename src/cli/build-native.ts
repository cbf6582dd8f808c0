// genlab build-native: compiles the addon from the package's own C++ sources against the libtorch in
// use (Debian's, or LIBTORCH's), for when the shipped prebuild does not fit. It imports nothing
// that loads the addon, so it runs where loading fails, from a checkout or an installed package.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('../../native', import.meta.url));

/** node-gyp from the project's devDependencies, else the copy npm itself carries, else npx's. */
function nodeGyp(): string[] {
  try {
    return [process.execPath, createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    const npmsCopy = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp');
    const bin = join(npmsCopy, 'bin', 'node-gyp.js');
    return existsSync(bin) ? [process.execPath, bin] : ['npx', '--yes', 'node-gyp'];
  }
}

/**
 * Node's own headers when this Node has them installed beside it (Debian's nodejs, an unpacked
 * release), so node-gyp need not download them: npm passes its nodedir setting to node-gyp, a
 * direct call does not.
 */
function localHeaders(): string[] {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const HELP = `Usage: genlab build-native

Compiles genlab's native addon from its C++ sources against libtorch: Debian's libtorch-dev, or the
unpacked libtorch that LIBTORCH names (a CUDA build, say). Needs a C++ compiler and make. The result
(native/build/Release/genlab.node) is loaded in preference to the shipped prebuild.
`;

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (argv.length > 1) {
    process.stderr.write(`genlab: unexpected argument '${argv[1]}' (see genlab build-native --help)\n`);
    return 2;
  }
  const [cmd, ...args] = nodeGyp();
  const where = process.env.LIBTORCH ? `LIBTORCH=${process.env.LIBTORCH}` : "Debian's libtorch";
  process.stderr.write(`genlab: building the native addon in ${nativeDir} against ${where} (a few minutes)\n`);
  const r = spawnSync(cmd, [...args, 'rebuild', '-j', 'max', ...localHeaders()], { cwd: nativeDir, stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    process.stderr.write(
      `genlab: the build failed${r.error ? `: ${r.error.message}` : ''}; see the compiler output above\n`,
    );
    return 1;
  }
  process.stderr.write('genlab: built native/build/Release/genlab.node\n');
  return 0;
}
