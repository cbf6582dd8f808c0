// genlab runs serve: the runs dashboard in the browser, over a folder of run folders.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Dashboard } from '../dashboard/server.js';
import { GenlabError } from '../torch/errors.js';
import { int, path, text } from './args.js';
import { verb } from './verb.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export const serve = verb({
  summary: 'browse runs in a web page: table, live charts, pictures, config diffs',
  usage: '[<folder>] [options]',
  description:
    'Serves a read-only dashboard over the run folders found under <folder> at any depth, on 127.0.0.1 unless --host says otherwise. Ctrl-C stops it.',
  args: [{ name: 'folder', help: 'folder holding run folders (searched at any depth)', default: '.' }],
  options: {
    port: int('port to listen on (0 picks a free one)', { min: 0, max: 65535, default: 6006 }),
    host: text('address to bind; anything but the loopback exposes your runs to the network', {
      default: '127.0.0.1',
    }),
    results: path('folder of results/*.md to render', { defaultText: './results when it exists' }),
  },
  run: async (o, [folder], ctx) => {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new GenlabError('usage', `${folder} is not a folder`);
    }
    const results = o.results ?? (existsSync('results') && statSync('results').isDirectory() ? 'results' : undefined);
    const local = LOOPBACK.has(o.host);
    if (!local) {
      // Always shown, even with --quiet: the runs become readable by anyone who can reach this host.
      process.stderr.write(
        `warning: serving on ${o.host}: anyone who can reach this address can read the files under ${resolve(folder)}\n`,
      );
    }
    const dash = new Dashboard({ folder, results, allowedHosts: local ? [] : undefined });
    const url = await dash.listen(o.port, o.host);
    process.stderr.write(`genlab runs dashboard on ${url} over ${resolve(folder)} (Ctrl-C stops it)\n`);
    if (results) ctx.log(`results: ${resolve(results)}`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await dash.close();
    return { url, folder: resolve(folder) };
  },
  show: (r) => [`stopped the dashboard on ${r.url}`],
});
