/**
 * `cleave bench-data`: write a synthetic `*_precomp` folder with the exact shapes of Flickr30K,
 * MS-COCO or CC152K (region features `[N, 36, 2048]`, raw captions, 768-d caption vectors, a
 * vocabulary) for speed work (see `writeSyntheticPrecomp`). At `--scale 1` the F30K train file alone
 * is 8.5 GB.
 *
 * @example
 * ```bash
 * cleave bench-data --shape f30k --scale 0.1 --out /tmp/bench     # /tmp/bench/f30k_precomp
 * cleave train --data /tmp/bench/f30k_precomp --method vse --epochs 1 --out runs/f30k-vse
 * ```
 */
import { InvalidArgumentError, Option } from 'commander';
import { SYNTHETIC_SHAPES, writeSyntheticPrecomp } from '../core/dataset/synthetic-precomp.js';
import { integerArg, positiveIntegerArg } from './args.js';
import type { CliCommand } from './context.js';

interface BenchDataOptions {
  shape: (typeof SYNTHETIC_SHAPES)[number];
  scale: number;
  out: string;
  seed?: number;
  regions?: number;
  imageDim?: number;
  captionDim?: number;
}

function scaleArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('expected a number in (0, 1]');
  return n;
}

export const benchDataCommand: CliCommand = {
  name: 'bench-data',
  register(program, ctx) {
    program
      .command('bench-data')
      .description('write a synthetic *_precomp folder with the shape of f30k, coco or cc152k')
      .addOption(
        new Option('--shape <name>', 'benchmark shape').choices([...SYNTHETIC_SHAPES]).makeOptionMandatory(),
      )
      .addOption(
        new Option('--scale <s>', 'share of the real image counts, (0, 1]').argParser(scaleArg).default(1),
      )
      .requiredOption('--out <dir>', 'parent folder; the data goes into <out>/<shape>_precomp')
      .addOption(new Option('--seed <n>', 'random seed (default 0)').argParser(integerArg))
      .addOption(new Option('--regions <n>', 'regions per image (default 36)').argParser(positiveIntegerArg))
      .addOption(
        new Option('--image-dim <n>', 'values per region (default 2048)').argParser(positiveIntegerArg),
      )
      .addOption(
        new Option(
          '--caption-dim <n>',
          'caption vector width, 0 for raw captions only (default 768)',
        ).argParser(integerArg),
      )
      .action(async (opts: BenchDataOptions) => {
        const t0 = performance.now();
        const dir = await writeSyntheticPrecomp(opts.out, {
          shape: opts.shape,
          scale: opts.scale,
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.regions !== undefined ? { regions: opts.regions } : {}),
          ...(opts.imageDim !== undefined ? { imageDim: opts.imageDim } : {}),
          ...(opts.captionDim !== undefined ? { captionDim: opts.captionDim } : {}),
        });
        ctx.print({ folder: dir, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) });
      });
  },
};
