/**
 * A `tf.io.IOHandler` that saves and loads model artifacts in a folder, in the layout tfjs-node's
 * `file://` handler writes: `model.json` (`modelTopology`, `weightsManifest` with `paths` and
 * `weights` specs, `format`, `generatedBy`, `convertedBy`) next to `weights.bin` (the weights'
 * little-endian bytes, concatenated in manifest order). Unlike tfjs-node's, it needs no native
 * binding, writes atomically (temp file + rename; `weights.bin` first, `model.json` last) and says
 * what is wrong with a damaged folder.
 *
 * @example
 * ```ts
 * import { CrossModalModel, fileSystemHandler } from 'cleave/model';
 * const model = new CrossModalModel({ image: { inputDim: 8 }, text: { inputDim: 8 } });
 * await model.save(fileSystemHandler('runs/7/model'));       // or simply model.save('runs/7/model')
 * const again = await CrossModalModel.load(fileSystemHandler('runs/7/model/model.json'));
 * ```
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { DataError } from '../errors.js';
import { assertNotProtected, writeFileAtomic } from '../io/atomic.js';

/** File name of the topology + manifest. */
export const MODEL_JSON = 'model.json';
/** File name of the weights. */
export const WEIGHTS_BIN = 'weights.bin';

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

const weightSpecSchema = z.looseObject({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool']),
});

const modelJsonSchema = z.looseObject({
  modelTopology: z.unknown().optional(),
  weightsManifest: z
    .array(z.looseObject({ paths: z.array(z.string().min(1)), weights: z.array(weightSpecSchema) }))
    .optional(),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
  trainingConfig: z.unknown().optional(),
  signature: z.unknown().optional(),
});

/** Options of {@link fileSystemHandler}. */
export interface FileSystemHandlerOptions {
  /** Paths that must never be written (a run's inputs); saving over one of them throws. */
  protect?: readonly string[];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * An IOHandler for the folder `path`. Saving writes `path/weights.bin` and `path/model.json`
 * (creating the folder). Loading accepts the folder or its `model.json`, reads every weight file
 * the manifest lists, and checks that their total size matches the weight specs.
 */
export function fileSystemHandler(path: string, options: FileSystemHandlerOptions = {}): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new DataError(
          'fileSystemHandler: binary model topologies are not supported; save a JSON topology (as CrossModalModel.save does)',
          { file: path },
        );
      }
      const weightData = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
      };
      if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature != null) modelJson.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata != null)
        modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      const text = JSON.stringify(modelJson);
      const binPath = join(path, WEIGHTS_BIN);
      const jsonPath = join(path, MODEL_JSON);
      for (const p of [binPath, jsonPath]) assertNotProtected(p, options.protect ?? []);
      await writeFileAtomic(binPath, new Uint8Array(weightData), options);
      await writeFileAtomic(jsonPath, text, options);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(modelJson.modelTopology)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(modelJson.weightsManifest[0]!.weights)),
          weightDataBytes: weightData.byteLength,
        },
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = (await isDirectory(path)) ? join(path, MODEL_JSON) : path;
      let raw: string;
      try {
        raw = await readFile(jsonPath, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new DataError(
          code === 'ENOENT'
            ? 'does not exist; expected a saved model folder or its model.json'
            : String(error),
          { file: jsonPath },
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (error) {
        throw new DataError(`is not valid JSON (${(error as Error).message})`, { file: jsonPath });
      }
      const result = modelJsonSchema.safeParse(parsed);
      if (!result.success) {
        const issue = result.error.issues[0]!;
        throw new DataError(`${issue.path.join('.') || '(root)'}: ${issue.message}`, { file: jsonPath });
      }
      const json = result.data;
      const artifacts: tf.io.ModelArtifacts = {
        modelTopology: json.modelTopology as object,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? null,
      };
      if (json.userDefinedMetadata) {
        artifacts.userDefinedMetadata =
          json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'];
      }
      if (json.trainingConfig != null) artifacts.trainingConfig = json.trainingConfig as tf.io.TrainingConfig;
      if (json.signature != null) artifacts.signature = json.signature as object;
      if (json.weightsManifest) {
        const dir = dirname(jsonPath);
        const buffers: Uint8Array[] = [];
        const specs: tf.io.WeightsManifestEntry[] = [];
        for (const group of json.weightsManifest) {
          for (const p of group.paths) {
            const file = join(dir, p);
            try {
              buffers.push(await readFile(file));
            } catch {
              throw new DataError(`weight file ${p} listed in its weightsManifest is missing`, {
                file: jsonPath,
              });
            }
          }
          specs.push(...(group.weights as tf.io.WeightsManifestEntry[]));
        }
        const total = buffers.reduce((s, b) => s + b.byteLength, 0);
        const expected = specs.reduce(
          (s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype] ?? 4),
          0,
        );
        if (total !== expected) {
          throw new DataError(
            `the weight files hold ${total} bytes but the weightsManifest describes ${expected} (truncated or mismatched weights)`,
            { file: jsonPath },
          );
        }
        const data = new Uint8Array(total);
        let offset = 0;
        for (const b of buffers) {
          data.set(b, offset);
          offset += b.byteLength;
        }
        artifacts.weightSpecs = specs;
        artifacts.weightData = data.buffer;
      }
      return artifacts;
    },
  };
}
