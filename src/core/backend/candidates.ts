/**
 * The five compute backends cleave knows, each as a probe (is it usable here, and if not, why and how
 * to fix it) and a start (register it with tfjs and switch to it). `initBackend` walks them in order.
 * Probes never throw and never hang (the GPU probe has a time limit).
 *
 * @example
 * ```ts
 * const probe = await defaultCandidates().webgpu.probe();
 * if (!probe.available) console.log(probe.detail, probe.fix);
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../errors.js';
import { CPU_BLAS, registerCpuBlasBackend, silenceNodeHint } from './cpu-blas.js';
import { loadBlasAddon } from './native.js';

/** The backends, in the order `auto` tries them. */
export const BACKEND_NAMES = ['webgpu', 'tensorflow', CPU_BLAS, 'wasm', 'cpu'] as const;
/** One of {@link BACKEND_NAMES}. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a probe found. */
export interface BackendProbe {
  /** Whether the backend can be started here. */
  available: boolean;
  /** What was found (e.g. `OpenBLAS Haswell, 2 threads`) or why it is unavailable. */
  detail: string;
  /** When unavailable: what the user can do about it. */
  fix?: string;
}

/** A backend as `initBackend` sees it. Tests replace `probe`/`start` to simulate any machine. */
export interface BackendCandidate {
  /** Cheap availability check; never throws. */
  probe(): Promise<BackendProbe>;
  /** Register the backend with tfjs and make it the active one; throws when it cannot. */
  start(): Promise<void>;
}

const require = createRequire(import.meta.url);

function resolvable(pkg: string): string | undefined {
  try {
    return require.resolve(pkg);
  } catch {
    return undefined;
  }
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/**
 * Switch tfjs to a registered backend, turning tfjs's silent `false` into an error.
 * @throws BackendError when the backend is not registered or does not initialise
 */
export async function switchTo(name: string): Promise<void> {
  if (!tf.findBackendFactory(name)) {
    throw new BackendError(
      `tfjs has no backend '${name}' registered: its package did not load (reinstall it, or use --backend auto)`,
    );
  }
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(
      `tfjs could not initialise the '${name}' backend (see the warning above); use --backend auto or another backend`,
    );
  }
  silenceNodeHint(tf.backend());
}

/** The part of a `GPUAdapter` the probe reads (`isFallbackAdapter` moved into `info` in newer specs). */
export interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
    /** Dawn's non-standard adapter type (`discrete GPU`, `integrated GPU`, `CPU`, …). */
    adapterType?: string;
  };
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|software|microsoft basic render/i;

/**
 * Whether a WebGPU adapter is a software rasteriser rather than a GPU (never chosen automatically).
 *
 * @example
 * ```ts
 * isSoftwareAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15, 256 bits)' } });   // true
 * isSoftwareAdapter({ info: { vendor: 'nvidia', description: 'NVIDIA H100 80GB HBM3' } });        // false
 * ```
 */
export function isSoftwareAdapter(adapter: GpuAdapterLike): boolean {
  const info = adapter.info ?? {};
  if (adapter.isFallbackAdapter || info.isFallbackAdapter) return true;
  if (info.adapterType && /cpu/i.test(info.adapterType)) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return SOFTWARE_ADAPTER.test(text);
}

/** Whether the dynamic loader can find libvulkan.so.1 (Linux), checked without loading it. */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  dirs.push(
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  );
  if (dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The part of the `webgpu` package cleave uses. */
export interface WebGpuModule {
  create(options: string[]): { requestAdapter(o?: object): Promise<GpuAdapterLike | null> };
  globals: object;
}
const WEBGPU_FIX =
  'on a machine with a GPU: install its driver with Vulkan support and the Vulkan loader (`apt-get install libvulkan1`); see the README section "Backends"';

/** What the WebGPU candidate needs from the machine; tests replace these. */
export interface WebGpuDeps {
  /** How long `requestAdapter()` may take (ms). */
  timeoutMs?: number;
  /** Whether the Vulkan loader is installed (default: looks for libvulkan.so.1 on Linux). */
  hasVulkanLoader?: () => boolean;
  /** Loads the `webgpu` package (default: `import('webgpu')`). */
  importWebGpu?: () => Promise<WebGpuModule>;
}

/**
 * The `webgpu` candidate: available only when Dawn finds a *hardware* adapter (see
 * {@link isSoftwareAdapter}); on a machine without a GPU it answers quickly and never hangs.
 */
export function webgpuCandidate(deps: WebGpuDeps = {}): BackendCandidate {
  const timeoutMs = deps.timeoutMs ?? 5000;
  const hasLoader = deps.hasVulkanLoader ?? vulkanLoaderPresent;
  const importWebGpu = deps.importWebGpu ?? (async () => (await import('webgpu')) as unknown as WebGpuModule);
  let gpu: ReturnType<WebGpuModule['create']> | undefined;
  let globals: object | undefined;
  return {
    async probe() {
      gpu = undefined;
      if (!hasLoader()) {
        return {
          available: false,
          detail: 'no Vulkan loader (libvulkan.so.1) on this machine',
          fix: WEBGPU_FIX,
        };
      }
      let mod: WebGpuModule;
      try {
        mod = await importWebGpu();
      } catch (e) {
        return {
          available: false,
          detail: `the optional package 'webgpu' does not load (${errorText(e)})`,
          fix: 'npm install webgpu',
        };
      }
      try {
        const instance = mod.create([]);
        const adapter = await withTimeout(
          instance.requestAdapter({ powerPreference: 'high-performance' }),
          timeoutMs,
          'WebGPU requestAdapter()',
        );
        if (!adapter)
          return { available: false, detail: 'no WebGPU adapter (no usable GPU found)', fix: WEBGPU_FIX };
        const info = adapter.info ?? {};
        const name = [info.vendor, info.architecture, info.description || info.device]
          .filter(Boolean)
          .join(' ');
        if (isSoftwareAdapter(adapter)) {
          return {
            available: false,
            detail: `only a software adapter (${name || 'fallback adapter'}), which is not a GPU`,
            fix: WEBGPU_FIX,
          };
        }
        gpu = instance;
        globals = mod.globals;
        return { available: true, detail: `GPU adapter: ${name || 'unnamed'}` };
      } catch (e) {
        return { available: false, detail: `WebGPU probe failed: ${errorText(e)}`, fix: WEBGPU_FIX };
      }
    },
    async start() {
      if (!gpu || !globals) {
        throw new BackendError(`no hardware WebGPU adapter was found by the probe: ${WEBGPU_FIX}`);
      }
      Object.assign(globalThis, globals);
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...((globalThis as { navigator?: object }).navigator ?? {}), gpu },
        configurable: true,
        writable: true,
      });
      await import('@tensorflow/tfjs-backend-webgpu');
      await switchTo('webgpu');
    },
  };
}

const TFJS_NODE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function tensorflowCandidate(): BackendCandidate {
  return {
    async probe() {
      const found = TFJS_NODE.filter((pkg) => resolvable(pkg));
      if (found.length === 0) {
        return {
          available: false,
          detail: 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed',
          fix: 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (CUDA 11.2) or @tensorflow/tfjs-node@4.22.0',
        };
      }
      return { available: true, detail: `installed: ${found.join(', ')}` };
    },
    async start() {
      const errors: string[] = [];
      for (const pkg of TFJS_NODE) {
        if (!resolvable(pkg)) continue;
        try {
          await import(pkg);
        } catch (e) {
          errors.push(`${pkg}: ${errorText(e)}`);
          continue;
        }
        if (!tf.findBackendFactory('tensorflow')) {
          errors.push(
            `${pkg} registered its backend with another copy of @tensorflow/tfjs-core (install 4.22.0)`,
          );
          continue;
        }
        await switchTo('tensorflow');
        return;
      }
      throw new BackendError(
        errors.join('; ') ||
          'tfjs-node is not installed: npm install @tensorflow/tfjs-node@4.22.0 (or tfjs-node-gpu)',
      );
    },
  };
}

function cpuBlasCandidate(): BackendCandidate {
  return {
    async probe() {
      const blas = loadBlasAddon();
      if (!blas.ok) return { available: false, detail: blas.reason, fix: blas.fix };
      return { available: true, detail: `OpenBLAS ${blas.info.coreName}, ${blas.info.numThreads} threads` };
    },
    async start() {
      const blas = loadBlasAddon();
      if (!blas.ok) throw new BackendError(`${blas.reason}; to fix: ${blas.fix}`);
      registerCpuBlasBackend(blas.addon);
      await switchTo(CPU_BLAS);
    },
  };
}

function wasmCandidate(): BackendCandidate {
  return {
    async probe() {
      const main = resolvable('@tensorflow/tfjs-backend-wasm');
      if (!main) {
        return {
          available: false,
          detail: '@tensorflow/tfjs-backend-wasm is not installed',
          fix: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
        };
      }
      if (!existsSync(join(dirname(main), 'tfjs-backend-wasm.wasm'))) {
        return {
          available: false,
          detail: 'the tfjs wasm binary is missing',
          fix: 'reinstall @tensorflow/tfjs-backend-wasm',
        };
      }
      return { available: true, detail: 'tfjs WebAssembly kernels' };
    },
    async start() {
      await import('@tensorflow/tfjs-backend-wasm');
      await switchTo('wasm');
    },
  };
}

function cpuCandidate(): BackendCandidate {
  return {
    async probe() {
      return { available: true, detail: 'tfjs reference kernels (pure JavaScript)' };
    },
    async start() {
      await switchTo('cpu');
    },
  };
}

/**
 * The real candidates of this machine.
 *
 * @param webgpuTimeoutMs how long the GPU probe may wait for an adapter
 */
export function defaultCandidates(webgpuTimeoutMs = 5000): Record<BackendName, BackendCandidate> {
  return {
    webgpu: webgpuCandidate({ timeoutMs: webgpuTimeoutMs }),
    tensorflow: tensorflowCandidate(),
    [CPU_BLAS]: cpuBlasCandidate(),
    wasm: wasmCandidate(),
    cpu: cpuCandidate(),
  } as Record<BackendName, BackendCandidate>;
}
