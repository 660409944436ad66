/**
 * `cleave info [--json]`: the version, the compute backend chosen and why, and every other backend's
 * availability (with how to enable it).
 *
 * @example
 * ```bash
 * cleave info
 * cleave --backend cpu info --json
 * ```
 */
import { arch, cpus, platform } from 'node:os';
import { type BackendStatus, probeBackends } from '../core/backend/index.js';
import { VERSION } from '../core/version.js';
import type { CliCommand } from './context.js';

export const infoCommand: CliCommand = {
  name: 'info',
  register(program, ctx) {
    program
      .command('info')
      .description('show the version, the compute backend chosen and why, and the other backends')
      .option('--json', 'print one JSON object')
      .action(async (opts: { json?: boolean }) => {
        const chosen = await ctx.backend();
        const others = await probeBackends();
        const backends: Omit<BackendStatus, 'probed'>[] = others.map(({ probed: _, ...s }) =>
          s.name === chosen.name ? { ...s, available: true, detail: chosen.detail } : s,
        );
        const machine = { node: process.version, platform: `${platform()}-${arch()}`, cpus: cpus().length };
        const backend = {
          name: chosen.name,
          requested: chosen.requested,
          source: chosen.source,
          reason: chosen.reason,
          detail: chosen.detail,
        };
        if (opts.json) {
          ctx.print({ version: VERSION, ...machine, backend, backends });
          return;
        }
        const lines = [
          `cleave ${VERSION} (Node ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs)`,
          `backend: ${chosen.name} — ${chosen.detail}`,
          `  why: ${chosen.reason}`,
          'backends (auto order):',
          ...backends.map((s) => {
            const mark = s.name === chosen.name ? '*' : s.available ? '+' : '-';
            return `  ${mark} ${s.name.padEnd(10)} ${s.detail}${s.available || !s.fix ? '' : `\n${' '.repeat(15)}fix: ${s.fix}`}`;
          }),
          '(* chosen, + available, - unavailable; force one with --backend <name> or CLEAVE_BACKEND)',
        ];
        ctx.print(lines.join('\n'));
      });
  },
};
