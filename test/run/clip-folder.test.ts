/**
 * writeClipRetrievalFolder in the input's shard layout: each pair lands in the shard of its input shard
 * (same number, same dtype), an input shard with no written pair becomes an empty shard that still
 * loads, metadata follows its shard, and a pair outside the layout is refused.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClipRetrievalFolder } from '../../src/core/io/clip-retrieval.js';
import { readNpy } from '../../src/core/io/npy.js';
import { clipShardLayout, readClipMetadata, writeClipRetrievalFolder } from '../../src/run/clip-folder.js';
import { tempDir, writeScrapedFolder } from './helpers.js';

const tmp = tempDir('cleave-clip-folder-');
afterAll(tmp.cleanup);

describe('writeClipRetrievalFolder with a shard layout', () => {
  it('keeps shard names, sizes by membership and dtypes; an emptied shard is written and loads', async () => {
    const input = join(tmp.dir, 'in');
    const { ids } = await writeScrapedFolder(input, { n: 40 });
    const layout = await clipShardLayout(input);
    expect(layout).toEqual([
      { id: 0, rows: 20, dtype: 'float16' },
      { id: 1, rows: 20, dtype: 'float32' },
    ]);
    const data = await loadClipRetrievalFolder(input);
    const meta = await readClipMetadata(input);
    const out = join(tmp.dir, 'out');
    const pairs = [21, 25, 39]; // none from shard 0
    const written = await writeClipRetrievalFolder(out, data, { pairs, shards: layout, metadata: meta! });
    expect(written.sort()).toEqual(
      [
        'img_emb/img_emb_0.npy',
        'img_emb/img_emb_1.npy',
        'metadata/metadata_0.parquet',
        'metadata/metadata_1.parquet',
        'text_emb/text_emb_0.npy',
        'text_emb/text_emb_1.npy',
      ].sort(),
    );
    expect(readdirSync(join(out, 'img_emb')).sort()).toEqual(['img_emb_0.npy', 'img_emb_1.npy']);
    const empty = await readNpy(join(out, 'img_emb', 'img_emb_0.npy'));
    expect([empty.dtype, empty.shape]).toEqual(['float16', [0, data.imageDim]]);
    const back = await loadClipRetrievalFolder(out);
    expect(back.numPairs).toBe(3);
    expect(Array.from(back.captionRow(1))).toEqual(Array.from(data.captionRow(25)));
    expect(back.captionId(2)).toBe(ids[39]);
    expect((await readNpy(join(out, 'text_emb', 'text_emb_1.npy'))).dtype).toBe('float32');
  });

  it('refuses a pair outside the layout', async () => {
    const input = join(tmp.dir, 'in2');
    await writeScrapedFolder(input, { n: 20 });
    const data = await loadClipRetrievalFolder(input);
    await expect(
      writeClipRetrievalFolder(join(tmp.dir, 'out2'), data, {
        pairs: [3, 15],
        shards: [{ id: 0, rows: 10, dtype: 'float32' }],
      }),
    ).rejects.toThrow(/pair 15 lies outside the shard layout \(10 rows\)/);
  });
});
