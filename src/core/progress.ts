/**
 * Progress bars for long loops: a `cli-progress` bar on an interactive terminal, nothing otherwise
 * (CI, pipes, tests), so logs stay clean.
 *
 * @example
 * ```ts
 * const bar = createProgress(batches, 'epoch 3');
 * for (let b = 0; b < batches; b++) { ...; bar.tick(1, { loss: 0.12 }); }
 * bar.stop();
 * ```
 */
import cliProgress from 'cli-progress';

/** A progress display; all methods are no-ops when no terminal is attached. */
export interface Progress {
  /** Advance by `n` steps and show the given values (e.g. the running loss). */
  tick(n?: number, values?: Record<string, number | string>): void;
  /** Finish and remove the bar. */
  stop(): void;
}

const silent: Progress = { tick() {}, stop() {} };

let scope: string | undefined;

/**
 * Prefix every bar drawn from now on with `label` (e.g. the experiment cell being run), so an outer
 * loop (a grid of runs) and an inner one (the trainer's batches) share one line; `undefined` clears it.
 *
 * @example
 * ```ts
 * setProgressScope('cell 3/40 refurb shuffle 0.4');
 * await trainer.fit(data);          // its bars read "cell 3/40 refurb shuffle 0.4 · epoch 2 [...]"
 * setProgressScope(undefined);
 * ```
 */
export function setProgressScope(label: string | undefined): void {
  scope = label;
}

/** Whether progress bars are shown: stderr is a TTY, and neither CI nor vitest is running. */
export function progressEnabled(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && !process.env.VITEST;
}

/**
 * A progress bar over `total` steps labelled `label`, drawn on stderr when {@link progressEnabled}.
 */
export function createProgress(total: number, label: string): Progress {
  if (!progressEnabled() || total <= 0) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${scope ? `${scope} · ` : ''}${label} [{bar}] {percentage}% {value}/{total} eta {eta}s {info}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    tick(n = 1, values) {
      const info = values
        ? Object.entries(values)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? v.toPrecision(4) : v}`)
            .join(' ')
        : '';
      bar.increment(n, { info });
    },
    stop() {
      bar.stop();
    },
  };
}
