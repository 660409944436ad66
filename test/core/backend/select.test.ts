/**
 * Backend selection: the auto order with each candidate missing (injected probes), start failures,
 * forced backends (option, CLEAVE_BACKEND) and their errors, and the WebGPU probe's rules.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GpuAdapterLike, webgpuCandidate } from '../../../src/core/backend/candidates.js';
import {
  BACKEND_NAMES,
  type BackendName,
  type BackendOverrides,
  getBackendInfo,
  initBackend,
  isSoftwareAdapter,
  probeBackends,
} from '../../../src/core/backend/index.js';
import { BackendError, ConfigError } from '../../../src/core/errors.js';
import { requireCpuBlas } from './helpers.js';

const savedEnv = process.env.CLEAVE_BACKEND;
beforeEach(() => {
  delete process.env.CLEAVE_BACKEND;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.CLEAVE_BACKEND;
  else process.env.CLEAVE_BACKEND = savedEnv;
});

const missing = (detail: string) => ({
  probe: async () => ({ available: false, detail, fix: `install ${detail}` }),
});

/** Overrides making the given backends unavailable; the others keep their real probes. */
function without(...names: BackendName[]): BackendOverrides {
  return Object.fromEntries(names.map((n) => [n, missing(`${n}-missing`)]));
}

describe('auto selection', () => {
  it('on this machine (no GPU, no tfjs-node, OpenBLAS addon built) picks cpu-blas', async () => {
    await requireCpuBlas();
    const info = await initBackend({}, {});
    expect(info.name).toBe('cpu-blas');
    expect(tf.getBackend()).toBe('cpu-blas');
    expect(info.requested).toBe('auto');
    expect(info.source).toBe('default');
    expect(info.reason).toMatch(/webgpu: .*tensorflow: /);
    expect(info.detail).toMatch(/OpenBLAS .*threads/);
    expect(info.candidates.map((c) => c.name)).toEqual([...BACKEND_NAMES]);
    expect(info.candidates.find((c) => c.name === 'wasm')!.probed).toBe(false);
    expect(getBackendInfo()).toBe(info);
  });

  const chain: [BackendName[], BackendName][] = [
    [['webgpu', 'tensorflow', 'cpu-blas'], 'wasm'],
    [['webgpu', 'tensorflow', 'cpu-blas', 'wasm'], 'cpu'],
    [['tensorflow'], 'cpu-blas'],
  ];
  for (const [gone, expected] of chain) {
    it(`picks ${expected} when ${gone.join(', ')} are missing`, async () => {
      const info = await initBackend({}, without(...gone));
      expect(info.name).toBe(expected);
      expect(tf.getBackend()).toBe(expected);
      for (const name of gone) {
        const status = info.candidates.find((c) => c.name === name)!;
        expect(status).toMatchObject({ probed: true, available: false, detail: `${name}-missing` });
        expect(info.reason).toContain(`${name}: ${name}-missing`);
      }
    });
  }

  it('takes the first available candidate: a (simulated) GPU wins over everything else', async () => {
    const started: string[] = [];
    const fake = (name: BackendName) => ({
      probe: async () => ({ available: true, detail: `${name} found` }),
      start: async () => {
        started.push(name);
      },
    });
    const info = await initBackend({}, { webgpu: fake('webgpu'), tensorflow: fake('tensorflow') });
    expect(info).toMatchObject({ name: 'webgpu', detail: 'webgpu found' });
    expect(started).toEqual(['webgpu']);
    const next = await initBackend({}, { ...without('webgpu'), tensorflow: fake('tensorflow') });
    expect(next.name).toBe('tensorflow');
  });

  it('falls through to the next candidate when one is found but fails to start', async () => {
    const info = await initBackend(
      {},
      {
        webgpu: {
          probe: async () => ({ available: true, detail: 'NVIDIA H100' }),
          start: async () => {
            throw new Error('device lost');
          },
        },
        tensorflow: missing('tfjs-node'),
      },
    );
    expect(info.name).toBe('cpu-blas');
    const gpu = info.candidates.find((c) => c.name === 'webgpu')!;
    expect(gpu.available).toBe(false);
    expect(gpu.detail).toMatch(/NVIDIA H100.*failed to start: device lost/);
  });

  it('treats a probe that throws as unavailable', async () => {
    const info = await initBackend(
      {},
      {
        webgpu: {
          probe: async () => {
            throw new Error('driver crashed');
          },
        },
      },
    );
    expect(info.candidates.find((c) => c.name === 'webgpu')!.detail).toMatch(/probe failed: driver crashed/);
  });
});

describe('forcing a backend', () => {
  it('with the option, the env var, and the option winning over the env var', async () => {
    expect((await initBackend({ backend: 'cpu' })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.CLEAVE_BACKEND = 'wasm';
    const fromEnv = await initBackend();
    expect(fromEnv).toMatchObject({ name: 'wasm', source: 'env', requested: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync())).toEqual([3, 3, 3, 3]);
    const fromOption = await initBackend({ backend: 'cpu' });
    expect(fromOption).toMatchObject({ name: 'cpu', source: 'option' });
  });

  it('throws a BackendError saying why and how to fix it when the forced backend cannot start', async () => {
    const attempt = initBackend({ backend: 'cpu-blas' }, without('cpu-blas'));
    await expect(attempt).rejects.toThrow(BackendError);
    await expect(attempt).rejects.toThrow(
      /'cpu-blas' was requested .* cannot start: cpu-blas-missing.*install cpu-blas-missing/,
    );
    await expect(attempt).rejects.toThrow(/--backend auto/);
  });

  it('reports the real reasons for webgpu and tensorflow on this machine', async () => {
    process.env.CLEAVE_BACKEND = 'tensorflow';
    await expect(initBackend()).rejects.toThrow(
      /CLEAVE_BACKEND=tensorflow.*tfjs-node.*npm install @tensorflow\/tfjs-node/,
    );
    delete process.env.CLEAVE_BACKEND;
    await expect(initBackend({ backend: 'webgpu' })).rejects.toThrow(
      /'webgpu' was requested .*cannot start: (no Vulkan loader|no WebGPU adapter)/,
    );
  });

  it('rejects an unknown CLEAVE_BACKEND or option value with a ConfigError listing the choices', async () => {
    process.env.CLEAVE_BACKEND = 'cuda';
    await expect(initBackend()).rejects.toThrow(ConfigError);
    await expect(initBackend()).rejects.toThrow(
      /CLEAVE_BACKEND=cuda .*auto, webgpu, tensorflow, cpu-blas, wasm, cpu/,
    );
    delete process.env.CLEAVE_BACKEND;
    await expect(initBackend({ backend: 'gpu' as never })).rejects.toThrow(ConfigError);
  });
});

describe('probeBackends', () => {
  it('reports every backend in auto order without switching', async () => {
    await initBackend({ backend: 'cpu' });
    const all = await probeBackends(without('webgpu'));
    expect(all.map((s) => s.name)).toEqual([...BACKEND_NAMES]);
    expect(all.find((s) => s.name === 'cpu')!.available).toBe(true);
    expect(all.find((s) => s.name === 'webgpu')!.available).toBe(false);
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('the WebGPU probe', () => {
  const module = (adapter: GpuAdapterLike | null | Promise<never>) => async () => ({
    create: () => ({
      requestAdapter: () => (adapter instanceof Promise ? adapter : Promise.resolve(adapter)),
    }),
    globals: {},
  });
  const hasLoader = () => true;

  it('accepts a hardware adapter', async () => {
    const probe = await webgpuCandidate({
      hasVulkanLoader: hasLoader,
      importWebGpu: module({
        info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' },
      }),
    }).probe();
    expect(probe).toMatchObject({ available: true });
    expect(probe.detail).toMatch(/NVIDIA H100/);
  });

  const software: [string, GpuAdapterLike][] = [
    ['lavapipe', { info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }],
    ['SwiftShader', { info: { vendor: 'google', description: 'SwiftShader Device (Subzero)' } }],
    ['isFallbackAdapter', { isFallbackAdapter: true, info: { vendor: 'unknown' } }],
    ['info.isFallbackAdapter', { info: { vendor: 'x', isFallbackAdapter: true } }],
    ['a CPU adapter type', { info: { vendor: 'x', adapterType: 'CPU' } }],
  ];
  for (const [what, adapter] of software) {
    it(`rejects a software adapter: ${what}`, async () => {
      expect(isSoftwareAdapter(adapter)).toBe(true);
      const probe = await webgpuCandidate({
        hasVulkanLoader: hasLoader,
        importWebGpu: module(adapter),
      }).probe();
      expect(probe.available).toBe(false);
      expect(probe.detail).toMatch(/software adapter/);
    });
  }

  it('is unavailable, not stuck, when no adapter, no loader, no package, or no answer', async () => {
    const none = await webgpuCandidate({ hasVulkanLoader: hasLoader, importWebGpu: module(null) }).probe();
    expect(none).toMatchObject({ available: false, detail: expect.stringMatching(/no WebGPU adapter/) });
    const noLoader = await webgpuCandidate({ hasVulkanLoader: () => false }).probe();
    expect(noLoader.detail).toMatch(/no Vulkan loader/);
    const noPackage = await webgpuCandidate({
      hasVulkanLoader: hasLoader,
      importWebGpu: async () => {
        throw new Error("Cannot find package 'webgpu'");
      },
    }).probe();
    expect(noPackage).toMatchObject({ available: false, fix: 'npm install webgpu' });
    const hang = await webgpuCandidate({
      hasVulkanLoader: hasLoader,
      timeoutMs: 20,
      importWebGpu: module(new Promise<never>(() => {})),
    }).probe();
    expect(hang.detail).toMatch(/did not answer within 20 ms/);
  });

  it('the real probe on this machine answers (unavailable: no GPU here)', async () => {
    const probe = await webgpuCandidate().probe();
    expect(probe.available).toBe(false);
    expect(probe.fix).toBeTruthy();
  });
});
