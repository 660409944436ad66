/**
 * Open a local HTML file in a real browser: Debian's `chromium` (or `$CLEAVE_CHROMIUM`, or
 * `chromium-browser` / `google-chrome` on PATH), headless, no npm browser download. Two runs: one
 * `--dump-dom` (the DOM after the page's scripts ran, with every console message on stderr via
 * `--enable-logging=stderr`) and one `--screenshot`.
 *
 * The browser is missing → a clear error saying how to install it (CI's `.ci/run` installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The chromium binary, or throws saying how to install one. */
export function chromiumPath(): string {
  const candidates = [process.env.CLEAVE_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'];
  for (const c of candidates) {
    if (!c) continue;
    try {
      return execFileSync('sh', ['-c', `command -v "${c}"`], { encoding: 'utf8' }).trim() || c;
    } catch {}
  }
  throw new Error(
    'no headless browser: install Debian chromium (apt-get install -y chromium) or set CLEAVE_CHROMIUM',
  );
}

/** What the browser saw. */
export interface BrowserResult {
  /** The serialised DOM after the scripts ran. */
  dom: string;
  /** Console messages (`console.*` calls and uncaught errors), one per line. */
  console: string[];
  /** PNG bytes of the screenshot (empty with `screenshot: false`). */
  screenshot: Buffer;
}

/**
 * Load `htmlPath` headless (with `hash` appended to its URL, e.g. `#threshold=0.3`); `budgetMs` of
 * virtual time lets the page's scripts finish; `screenshot: false` skips the second (screenshot) run.
 */
export function openInChromium(
  htmlPath: string,
  options: { hash?: string; screenshot?: boolean; budgetMs?: number } = {},
): BrowserResult {
  const hash = options.hash ?? '';
  const budgetMs = options.budgetMs ?? 3000;
  const bin = chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), 'cleave-chromium-'));
  try {
    const common = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-extensions',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      `--virtual-time-budget=${budgetMs}`,
    ];
    const url = pathToFileURL(htmlPath).href + hash;
    const dump = spawnSync(bin, [...common, '--enable-logging=stderr', '--log-level=0', '--dump-dom', url], {
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 << 20,
    });
    if (dump.status !== 0) throw new Error(`chromium --dump-dom failed (${dump.status}): ${dump.stderr}`);
    const consoleLines = dump.stderr.split('\n').filter((l) => /:CONSOLE[:(]/.test(l));
    if (options.screenshot === false) {
      return { dom: dump.stdout, console: consoleLines, screenshot: Buffer.alloc(0) };
    }
    const png = join(profile, 'shot.png');
    const shot = spawnSync(bin, [...common, '--window-size=1280,1600', `--screenshot=${png}`, url], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (shot.status !== 0) throw new Error(`chromium --screenshot failed (${shot.status}): ${shot.stderr}`);
    return { dom: dump.stdout, console: consoleLines, screenshot: readFileSync(png) };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
