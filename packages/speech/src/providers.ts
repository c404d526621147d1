import * as ort from 'onnxruntime-node';
import { ModelLoadError } from './errors.js';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface SessionConfig {
  /** Execution providers in order of preference; `cpu` is always the last resort. */
  providers: ExecutionProvider[];
  /** Threads inside one operator (0 = ORT default, one per core). */
  intraOpThreads: number;
  /** Threads across independent operators (0 = ORT default). */
  interOpThreads: number;
}

/**
 * Reads the environment once per call:
 *   ORT_PROVIDERS       comma list, e.g. "cuda" or "cuda,cpu" (default "cpu")
 *   ORT_INTRA_OP_THREADS / ORT_INTER_OP_THREADS   integers (default 0 = ORT decides)
 */
export function sessionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SessionConfig {
  const providers = (env['ORT_PROVIDERS'] ?? 'cpu')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  for (const p of providers) {
    if (p !== 'cpu' && p !== 'cuda') throw new RangeError(`ORT_PROVIDERS: unknown execution provider "${p}" (known: cpu, cuda)`);
  }
  const threads = (name: string): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return 0;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name}: expected a non-negative integer, got "${raw}"`);
    return n;
  };
  return {
    providers: providers.length > 0 ? (providers as ExecutionProvider[]) : ['cpu'],
    intraOpThreads: threads('ORT_INTRA_OP_THREADS'),
    interOpThreads: threads('ORT_INTER_OP_THREADS'),
  };
}

/** Set after the first failed attempt: later sessions go straight to CPU instead of failing again. */
let acceleratorFailed = false;
let warn: (message: string) => void = (m) => console.warn(m);

/** Lets a worker route the one fallback warning to its own logger. */
export function setProviderWarning(fn: (message: string) => void): void {
  warn = fn;
}

/**
 * Opens an ORT session. When CUDA is asked for and cannot be used (no GPU, no CUDA libraries in
 * this onnxruntime-node build), the session is opened on CPU and a single warning is printed for
 * the whole process, not one per model.
 */
export async function createSession(modelPath: string, overrides: Partial<SessionConfig> = {}): Promise<ort.InferenceSession> {
  const config = { ...sessionConfigFromEnv(), ...overrides };
  const options = (providers: ExecutionProvider[]): ort.InferenceSession.SessionOptions => {
    const o: ort.InferenceSession.SessionOptions = { executionProviders: providers, graphOptimizationLevel: 'all' };
    if (config.intraOpThreads > 0) o.intraOpNumThreads = config.intraOpThreads;
    if (config.interOpThreads > 0) o.interOpNumThreads = config.interOpThreads;
    return o;
  };
  const wanted = config.providers.filter((p) => p !== 'cpu');
  if (wanted.length > 0 && !acceleratorFailed) {
    try {
      // Fatal-only native logging: the failure is reported once, below, in our own words.
      return await ort.InferenceSession.create(modelPath, { ...options([...wanted, 'cpu']), logSeverityLevel: 4 });
    } catch (cause) {
      acceleratorFailed = true;
      warn(`onnxruntime: execution provider ${wanted.join(',')} unavailable (${firstLine(cause)}); falling back to CPU for all models`);
    }
  }
  try {
    return await ort.InferenceSession.create(modelPath, options(['cpu']));
  } catch (cause) {
    throw new ModelLoadError(modelPath, firstLine(cause), { cause });
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0] ?? '';
}

export { ort };
