/**
 * The token encoders (`bow`, bidirectional `gru`): gradients of every weight against central finite
 * differences (float32, step 1e-2, to 5e-3) on the reference `cpu` backend, padding that never changes the
 * output, and a GRU step that matches PyTorch's cell written out by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamStore } from '../../../src/core/model/params.js';
import { TokenEncoder } from '../../../src/core/model/text-encoder.js';
import { Rng } from '../../../src/core/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const IDS = [
  [1, 4, 5, 6, 2, 0],
  [1, 3, 2, 0, 0, 0],
  [1, 6, 6, 5, 4, 2],
];

function build(kind: 'bow' | 'gru') {
  const store = new ParamStore(new Rng(11));
  const enc = new TokenEncoder(store, 'text/tokens', { kind, vocabSize: 7, wordDim: 3, hidden: 4 });
  return { store, enc };
}

/** loss = Σ out ⊙ R for a fixed R, so every output entry matters with its own weight. */
function lossOf(enc: TokenEncoder, ids: number[][], r: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(enc.forward(tf.tensor2d(ids, undefined, 'int32')), r)) as tf.Scalar);
}

for (const kind of ['bow', 'gru'] as const) {
  describe(`TokenEncoder ${kind}`, () => {
    it('gradients of every weight match central finite differences', () => {
      const { store, enc } = build(kind);
      const rng = new Rng(3);
      const r = tf.tensor2d(
        Array.from({ length: 3 * enc.outputDim }, () => rng.normal()),
        [3, enc.outputDim],
      );
      const vars = store.trainable();
      const { grads } = tf.variableGrads(() => lossOf(enc, IDS, r), vars);
      const eps = 1e-2;
      let checked = 0;
      for (const v of vars) {
        const g = grads[v.name]!.dataSync();
        const values = Float32Array.from(v.dataSync());
        // every entry of the small weights, a sample of the larger ones
        const picks = values.length <= 24 ? values.keys() : [0, 5, 13, values.length - 1].values();
        for (const k of picks) {
          const at = (delta: number) => {
            const moved = Float32Array.from(values);
            moved[k]! += delta;
            v.assign(tf.tensor(moved, v.shape));
            return lossOf(enc, IDS, r).dataSync()[0]!;
          };
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          v.assign(tf.tensor(values, v.shape));
          expect(g[k]!, `${v.name}[${k}]`).toBeCloseTo(fd, 2);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(kind === 'gru' ? 60 : 15);
      // the padding row of the embedding gets no gradient
      const embName = vars[0]!.name;
      expect(Array.from(grads[embName]!.dataSync().slice(0, 3))).toEqual([0, 0, 0]);
      tf.dispose(grads);
    });

    it('padding does not change the output', () => {
      const { enc } = build(kind);
      const short = enc.forward(tf.tensor2d([[1, 4, 5, 2]], undefined, 'int32')).arraySync();
      const padded = enc.forward(tf.tensor2d([[1, 4, 5, 2, 0, 0, 0]], undefined, 'int32')).arraySync();
      const batched = enc.forward(tf.tensor2d([IDS[2]!, [1, 4, 5, 2, 0, 0]], undefined, 'int32')).arraySync();
      for (let d = 0; d < enc.outputDim; d++) {
        expect(padded[0]![d]).toBeCloseTo(short[0]![d]!, 6);
        expect(batched[1]![d]).toBeCloseTo(short[0]![d]!, 6);
      }
    });
  });
}

describe('TokenEncoder gru', () => {
  it("is PyTorch's GRU cell (weight_ih [3H, W], weight_hh [3H, H], gates r | z | n), directions averaged", () => {
    const { store, enc } = build('gru');
    const w = (n: string) => store.get(`text/tokens/${n}`).arraySync() as number[][];
    const v = (n: string) => store.get(`text/tokens/${n}`).arraySync() as unknown as number[];
    const emb = w('embedding');
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const direction = (dir: string, seq: number[]) => {
      const wi = w(`${dir}/input`);
      const wh = w(`${dir}/hidden`);
      const bi = v(`${dir}/input_bias`);
      const bh = v(`${dir}/hidden_bias`);
      let h = [0, 0, 0, 0];
      for (const id of seq) {
        const x = emb[id]!;
        const xp = bi.map((b, j) => b + x.reduce((s, xv, i) => s + xv * wi[j]![i]!, 0));
        const hp = bh.map((b, j) => b + h.reduce((s, hv, i) => s + hv * wh[j]![i]!, 0));
        const r = h.map((_, j) => sig(xp[j]! + hp[j]!));
        const z = h.map((_, j) => sig(xp[4 + j]! + hp[4 + j]!));
        const n = h.map((_, j) => Math.tanh(xp[8 + j]! + r[j]! * hp[8 + j]!));
        h = h.map((hv, j) => (1 - z[j]!) * n[j]! + z[j]! * hv);
      }
      return h;
    };
    const seq = [1, 3, 2];
    const f = direction('fwd', seq);
    const b = direction('bwd', [...seq].reverse());
    const got = enc.forward(tf.tensor2d([[...seq, 0, 0]], undefined, 'int32')).arraySync()[0]!;
    for (let j = 0; j < 4; j++) expect(got[j]).toBeCloseTo((f[j]! + b[j]!) / 2, 5);
  });
});
