/**
 * A small pool of inference threads (node:worker_threads), so VAD, STT and TTS run off the
 * worker's event loop, which keeps to I/O: NATS, LiveKit frames, HTTP, timers. Every thread loads
 * the pool's engines at start (load and warm-up happen in the threads too) and runs one task at a
 * time; audio crosses as transferred buffers.
 *
 * Scheduling is earliest deadline first: each task says when its result is needed — a
 * transcription the user waits for and a first sentence now, a later sentence when the audio
 * before it will have played out — so a room's later sentences never delay another room's first
 * audio. A task aborted while it waits leaves the queue at once (barge-in overtakes everything);
 * one already running finishes in its thread and its result is dropped.
 */
import { Worker } from 'node:worker_threads';
import { SpeechError } from '../errors.js';
import type { SpeechSettings } from '../settings.js';
import type { FromThread, TaskRequest, ThreadEngines, ThreadErrorInfo, ThreadReady, ThreadStart, ToThread } from './protocol.js';

/** An error raised inside an inference thread, with the name it had there. */
export class InferenceThreadError extends SpeechError {
  constructor(
    readonly originalName: string,
    message: string,
  ) {
    super(message);
  }
}

/** A task given up before it ran (its signal aborted). */
export class TaskAbortedError extends SpeechError {
  constructor() {
    super('inference task aborted before it ran');
  }
}

export interface PoolOptions {
  /** for logs and metrics, e.g. "stt" */
  name: string;
  /** threads in the pool (each holds its own copy of the engines) */
  threads: number;
  engines: ThreadEngines;
  settings: SpeechSettings;
  /** thread priority, Linux nice (default 5: below every event loop, above background work) */
  niceness?: number;
}

export interface TaskOptions {
  /** performance.now() by which the result is needed (default: now) */
  deadline?: number;
  /** buffers moved to the thread instead of copied */
  transfer?: ArrayBuffer[];
  signal?: AbortSignal;
}

interface Task {
  id: number;
  request: TaskRequest;
  deadline: number;
  queuedAt: number;
  startedAt: number;
  transfer: ArrayBuffer[];
  signal: AbortSignal | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  running: Task | undefined;
  busySince: number;
}

const THREAD_MAIN = new URL('./thread-main.js', import.meta.url);
const toError = (info: ThreadErrorInfo) => new InferenceThreadError(info.name, info.message);

export class InferencePool {
  private readonly queue: Task[] = [];
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private busyMs = 0;
  private samples: { op: string; waitMs: number; runMs: number }[] = [];
  private measuredSince = performance.now();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: PoolOptions,
    readonly ready: ThreadReady,
  ) {}

  /** Starts the threads and waits until every one has loaded and warmed up its engines. */
  static async start(options: PoolOptions): Promise<InferencePool> {
    const threads = Math.max(1, Math.floor(options.threads));
    const workers = Array.from({ length: threads }, () => spawn(options));
    let readies: ThreadReady[];
    try {
      readies = await Promise.all(workers.map((worker) => waitReady(worker)));
    } catch (error) {
      await Promise.allSettled(workers.map((w) => w.terminate()));
      throw error;
    }
    const pool = new InferencePool(options, readies[0]!);
    for (const worker of workers) pool.adopt(worker);
    return pool;
  }

  get name(): string {
    return this.options.name;
  }

  get size(): number {
    return this.slots.length;
  }

  /** tasks waiting for a thread */
  get waiting(): number {
    return this.queue.length;
  }

  /** Share of thread time spent on tasks since the last call (0–1). */
  utilization(): number {
    const now = performance.now();
    let busy = this.busyMs;
    for (const slot of this.slots) if (slot.running) busy += now - Math.max(slot.busySince, this.measuredSince);
    const span = (now - this.measuredSince) * this.slots.length;
    this.busyMs = 0;
    this.measuredSince = now;
    for (const slot of this.slots) if (slot.running) slot.busySince = now;
    return span > 0 ? Math.min(1, busy / span) : 0;
  }

  /** Per operation since the last call: tasks run, and the median and worst time waiting for a thread and running. */
  taskStats(): Record<string, { tasks: number; wait_p50_ms: number; wait_max_ms: number; run_p50_ms: number; run_max_ms: number }> {
    const byOp = new Map<string, { wait: number[]; run: number[] }>();
    for (const s of this.samples) {
      const entry = byOp.get(s.op) ?? { wait: [], run: [] };
      entry.wait.push(s.waitMs);
      entry.run.push(s.runMs);
      byOp.set(s.op, entry);
    }
    this.samples = [];
    const median = (v: number[]) => Math.round([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]! * 10) / 10;
    const max = (v: number[]) => Math.round(Math.max(...v) * 10) / 10;
    return Object.fromEntries(
      [...byOp].map(([op, e]) => [op, { tasks: e.wait.length, wait_p50_ms: median(e.wait), wait_max_ms: max(e.wait), run_p50_ms: median(e.run), run_max_ms: max(e.run) }]),
    );
  }

  run<T>(request: TaskRequest, options: TaskOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new SpeechError(`inference pool ${this.options.name} is closed`));
    if (options.signal?.aborted) return Promise.reject(new TaskAbortedError());
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        id: this.nextId++,
        request,
        deadline: options.deadline ?? performance.now(),
        queuedAt: performance.now(),
        startedAt: 0,
        transfer: options.transfer ?? [],
        signal: options.signal,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (task.signal) {
        task.onAbort = () => {
          const at = this.queue.indexOf(task);
          if (at >= 0) {
            this.queue.splice(at, 1);
            reject(new TaskAbortedError());
          }
        };
        task.signal.addEventListener('abort', task.onAbort, { once: true });
      }
      // Earliest deadline first; equal deadlines keep their arrival order.
      let at = this.queue.length;
      while (at > 0 && this.queue[at - 1]!.deadline > task.deadline) at--;
      this.queue.splice(at, 0, task);
      this.dispatch();
    });
  }

  /** Stops the threads (their engines are closed in them); idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new SpeechError(`inference pool ${this.options.name} closed`));
    await Promise.allSettled(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.once('exit', () => resolve());
            slot.worker.postMessage('close');
            setTimeout(() => void slot.worker.terminate(), 5_000).unref();
          }),
      ),
    );
  }

  private adopt(worker: Worker): void {
    const slot: Slot = { worker, running: undefined, busySince: 0 };
    this.slots.push(slot);
    worker.on('message', (message: FromThread) => {
      if (message.type !== 'result') return;
      const task = slot.running;
      if (!task || task.id !== message.id) return;
      this.finish(slot);
      if (message.ok) task.resolve(message.value);
      else task.reject(toError(message.error));
      this.dispatch();
    });
    worker.on('error', (error) => {
      slot.running?.reject(new InferenceThreadError(error.name, `inference thread of ${this.options.name} failed: ${error.message}`));
    });
    worker.on('exit', () => {
      const running = slot.running;
      this.slots.splice(this.slots.indexOf(slot), 1);
      if (running) {
        this.finish(slot);
        running.reject(new InferenceThreadError('ThreadExit', `inference thread of ${this.options.name} exited while running ${running.request.op}`));
      }
      if (!this.closed) void this.replace();
    });
    this.dispatch();
  }

  /** A thread that died is replaced, so the pool keeps its size. */
  private async replace(): Promise<void> {
    const worker = spawn(this.options);
    try {
      await waitReady(worker);
      if (this.closed) await worker.terminate();
      else this.adopt(worker);
    } catch {
      await worker.terminate();
    }
  }

  private finish(slot: Slot): void {
    const task = slot.running;
    if (task?.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
    if (task && this.samples.length < 10_000) {
      this.samples.push({ op: task.request.op, waitMs: task.startedAt - task.queuedAt, runMs: performance.now() - task.startedAt });
    }
    this.busyMs += performance.now() - Math.max(slot.busySince, this.measuredSince);
    slot.running = undefined;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.running) continue;
      const task = this.queue.shift();
      if (!task) return;
      slot.running = task;
      slot.busySince = performance.now();
      task.startedAt = slot.busySince;
      slot.worker.postMessage({ id: task.id, task: task.request } satisfies ToThread, task.transfer);
    }
  }
}

function spawn(options: PoolOptions): Worker {
  const start: ThreadStart = { engines: options.engines, settings: options.settings, niceness: options.niceness ?? 5 };
  return new Worker(THREAD_MAIN, { workerData: start });
}

function waitReady(worker: Worker): Promise<ThreadReady> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromThread) => {
      if (message.type === 'ready') done(() => resolve(message.ready));
      else if (message.type === 'failed') done(() => reject(toError(message.error)));
    };
    const onError = (error: Error) => done(() => reject(error));
    const onExit = (code: number) => done(() => reject(new SpeechError(`inference thread exited with code ${code} while loading`)));
    const done = (settle: () => void) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      settle();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
