// Progress for long work: a bar with rate and ETA on a terminal, plain periodic lines otherwise.
// Everything goes to stderr so that `--json` output on stdout stays clean.

export interface ProgressOptions {
  total: number;
  label?: string;
  /** Seconds between plain lines when stderr is not a terminal. */
  lineEvery?: number;
  stream?: NodeJS.WriteStream;
  /** Silence everything (tests, --quiet). */
  quiet?: boolean;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(
      ([k, v]) => `${k}=${Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4)}`,
    )
    .join(' ');
}

export class Progress {
  private readonly start = performance.now();
  private lastLine = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private startDone = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !opts.quiet;
  }

  /** Marks where a resumed run started, so the rate counts only this session's work. */
  resumeFrom(done: number): void {
    this.startDone = done;
  }

  update(done: number, metrics: Record<string, number> = {}): void {
    if (this.opts.quiet) return;
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const rate = (done - this.startDone) / Math.max(elapsed, 1e-9);
    const eta = (this.opts.total - done) / rate;
    const label = this.opts.label ? `${this.opts.label} ` : '';
    const m = formatMetrics(metrics);
    if (this.tty) {
      if (now - this.lastLine < 100 && done < this.opts.total) return;
      this.lastLine = now;
      const width = 24;
      const filled = Math.round((width * done) / this.opts.total);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const line = `${label}${bar} ${done}/${this.opts.total} ${rate.toFixed(1)}/s ETA ${formatDuration(eta)} ${m}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns || 120) - 1)}\x1b[K`);
    } else {
      const every = (this.opts.lineEvery ?? 10) * 1000;
      if (now - this.lastLine < every && done < this.opts.total && done !== this.startDone + 1) return;
      this.lastLine = now;
      this.stream.write(`${label}${done}/${this.opts.total} ${rate.toFixed(1)}/s ETA ${formatDuration(eta)} ${m}\n`);
    }
  }

  done(message?: string): void {
    if (this.opts.quiet) return;
    const elapsed = (performance.now() - this.start) / 1000;
    if (this.tty) this.stream.write('\n');
    if (message) this.stream.write(`${message} (${formatDuration(elapsed)})\n`);
  }

  /** For messages between updates that must not tear the bar. */
  log(message: string): void {
    if (this.opts.quiet) return;
    this.stream.write(this.tty ? `\r\x1b[K${message}\n` : `${message}\n`);
  }
}
