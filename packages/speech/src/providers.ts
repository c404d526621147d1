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
export async function createSession(modelPath: string, config: SessionConfig): Promise<ort.InferenceSession> {
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
