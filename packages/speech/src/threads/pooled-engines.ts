/**
 * Engines whose models run in an inference pool (see pool.ts). They implement the same
 * VadEngine, SttEngine and TtsEngine interfaces as the in-process engines, so a session or a
 * room speaker cannot tell the difference — except that the event loop stays free.
 */
import type { SpeechSettings } from '../settings.js';
import type { SttChoice } from '../stt/factory.js';
import type { SttEngine, TranscribeOptions, Transcript } from '../stt/types.js';
import type { TtsChoice } from '../tts/factory.js';
import { speakingUnits, type SpeakingUnit } from '../tts/text.js';
import type { SynthesisOptions, TtsChunk, TtsEngine } from '../tts/types.js';
import type { VadChoice } from '../vad/factory.js';
import { VAD_FRAME_SAMPLES } from '../vad/silero.js';
import type { VadEngine, VadEvent, VadOptions, VadSegmenter } from '../vad/types.js';
import { InferencePool, TaskAbortedError } from './pool.js';

/** A typed array the thread may own: the array itself when it spans its whole buffer, else a copy. */
function movable<T extends Int16Array | Float32Array>(audio: T): T {
  return audio.byteOffset === 0 && audio.byteLength === audio.buffer.byteLength ? audio : (audio.slice() as T);
}

class PooledVadStream implements VadSegmenter {
  private readonly opened: Promise<unknown>;
  private pending: Int16Array[] = [];
  private pendingSamples = 0;

  constructor(
    readonly pool: InferencePool,
    private readonly id: number,
    options: Partial<VadOptions>,
  ) {
    this.opened = pool.run({ op: 'vad.open', stream: id, options });
  }

  /** Audio is sent once a whole VAD frame is there: fewer round trips, the same events. */
  async push(chunk: Float32Array | Int16Array): Promise<VadEvent[]> {
    this.pending.push(chunk instanceof Int16Array ? chunk : Int16Array.from(chunk, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768)))));
    this.pendingSamples += chunk.length;
    return this.pendingSamples < VAD_FRAME_SAMPLES ? [] : this.send();
  }

  async flush(): Promise<VadEvent[]> {
    const events = this.pendingSamples > 0 ? await this.send() : [];
    return [...events, ...(await this.pool.run<VadEvent[]>({ op: 'vad.flush', stream: this.id }))];
  }

  close(): void {
    void this.pool.run({ op: 'vad.close', stream: this.id }).catch(() => {});
  }

  /** Everything pending, as one transferred buffer. */
  private async send(): Promise<VadEvent[]> {
    const audio = new Int16Array(this.pendingSamples);
    let at = 0;
    for (const part of this.pending) {
      audio.set(part, at);
      at += part.length;
    }
    this.pending = [];
    this.pendingSamples = 0;
    await this.opened;
    return this.pool.run<VadEvent[]>({ op: 'vad.push', stream: this.id, audio }, { transfer: [audio.buffer] });
  }
}

export class PooledVad implements VadEngine {
  readonly sampleRate = 16000 as const;
  private nextStream = 1;

  constructor(
    readonly pool: InferencePool,
    readonly name: string,
  ) {}

  stream(options: Partial<VadOptions> = {}): VadSegmenter {
    return new PooledVadStream(this.pool, this.nextStream++, options);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export class PooledStt implements SttEngine {
  readonly sampleRate = 16000 as const;

  constructor(
    readonly pool: InferencePool,
    readonly name: string,
  ) {}

  /** Due now unless `dueInMs` says later (an early transcription of a pause that may not end the turn). */
  transcribe(audio: Float32Array, options?: TranscribeOptions): Promise<Transcript> {
    const moved = movable(audio);
    const { dueInMs, ...rest } = options ?? {};
    return this.pool.run<Transcript>(
      { op: 'stt.transcribe', audio: moved, options: rest },
      { transfer: [moved.buffer as ArrayBuffer], deadline: performance.now() + (dueInMs ?? 0) },
    );
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Smart Turn in its own thread: a judgment (about 100 ms) never holds up VAD frames or waits behind STT. */
export class PooledTurnDetector {
  constructor(
    readonly pool: InferencePool,
    readonly name: string,
  ) {}

  /** P(the turn is complete) for the turn's audio so far (16 kHz), ending with the pause being judged. */
  completeProbability(audio: Float32Array): Promise<number> {
    const moved = movable(audio);
    return this.pool.run<number>({ op: 'turn.judge', audio: moved }, { transfer: [moved.buffer as ArrayBuffer] });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

type UnitAudio = Omit<TtsChunk, 'index'>;

export class PooledTts implements TtsEngine {
  constructor(
    readonly pool: InferencePool,
    readonly id: string,
    readonly sampleRate: number,
  ) {}

  /**
   * Units in order, one ahead: the next unit is asked for as soon as the one before arrives, due
   * when that one will have played out; the first is due now.
   */
  async *stream(text: string, options: SynthesisOptions = {}): AsyncGenerator<TtsChunk> {
    const units = speakingUnits(text, options);
    let next = units[0] ? this.request(units[0], options, performance.now()) : undefined;
    let index = 0;
    for (let i = 0; i < units.length; i++) {
      let chunk: UnitAudio | undefined;
      try {
        // A cancel does not wait for the unit being synthesized: it finishes in its thread unheard.
        chunk = await untilAborted(next!, options.signal);
      } catch (error) {
        if (error instanceof TaskAbortedError) return;
        throw error;
      }
      if (options.signal?.aborted) return;
      const playsFor = chunk ? (chunk.audio.length / chunk.sampleRate) * 1000 : 0;
      next = units[i + 1] ? this.request(units[i + 1]!, options, performance.now() + playsFor) : undefined;
      if (chunk) yield { index: index++, ...chunk };
    }
  }

  unit(unit: SpeakingUnit, options: SynthesisOptions = {}): Promise<UnitAudio | undefined> {
    return this.request(unit, options, performance.now());
  }

  async synthesize(text: string, options: SynthesisOptions = {}): Promise<{ audio: Int16Array; sampleRate: number }> {
    const chunks: Int16Array[] = [];
    let sampleRate = options.sampleRate ?? this.sampleRate;
    for await (const chunk of this.stream(text, options)) {
      chunks.push(chunk.audio);
      sampleRate = chunk.sampleRate;
    }
    const audio = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      audio.set(c, at);
      at += c.length;
    }
    return { audio, sampleRate };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private request(unit: SpeakingUnit, options: SynthesisOptions, deadline: number): Promise<UnitAudio | undefined> {
    const { signal, ...rest } = options;
    const pending = this.pool
      .run<UnitAudio | null>({ op: 'tts.unit', voice: this.id, unit, options: rest }, { deadline, ...(signal ? { signal } : {}) })
      .then((chunk) => chunk ?? undefined);
    pending.catch(() => {}); // a unit asked for ahead and then abandoned (cancel) must not be an unhandled rejection
    return pending;
  }
}

/** Heartbeat figures of the inference pools behind some engines: tasks, waiting and running times per operation. */
export function inferenceStats(engines: readonly object[]): { inference?: Record<string, unknown> } {
  const pools = new Set(engines.flatMap((engine) => ('pool' in engine && engine.pool instanceof InferencePool ? [engine.pool] : [])));
  const stats = Object.assign({}, ...[...pools].map((pool) => pool.taskStats())) as Record<string, unknown>;
  return Object.keys(stats).length ? { inference: stats } : {};
}

/** The promise's value, or TaskAbortedError as soon as the signal aborts. */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return pending;
  if (signal.aborted) return Promise.reject(new TaskAbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TaskAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * One thread for every session's VAD: frames are small and due at once, so they never wait behind
 * a long STT or TTS run. It keeps the normal priority: end of turn and barge-in hang on it.
 */
export async function startVadThread(choice: VadChoice, settings: SpeechSettings): Promise<PooledVad> {
  const pool = await InferencePool.start({ name: 'vad', threads: 1, engines: { vad: choice }, settings, niceness: 0 });
  return new PooledVad(pool, pool.ready.vad!.name);
}

/** The end-of-turn detector's thread, at the normal priority like the VAD: the end of a turn waits on it. */
export async function startTurnThread(model: string, settings: SpeechSettings): Promise<PooledTurnDetector> {
  const pool = await InferencePool.start({ name: 'turn', threads: 1, engines: { turn: { model } }, settings, niceness: 0 });
  return new PooledTurnDetector(pool, pool.ready.turn!.name);
}

export async function startSttPool(choice: SttChoice, settings: SpeechSettings, threads: number, niceness?: number): Promise<PooledStt> {
  const pool = await InferencePool.start({ name: 'stt', threads, engines: { stt: choice }, settings, ...(niceness === undefined ? {} : { niceness }) });
  return new PooledStt(pool, pool.ready.stt!.name);
}

/** Every voice is loaded in every thread of one pool; the engines share it. */
export async function startTtsPool(choices: TtsChoice[], settings: SpeechSettings, threads: number, niceness?: number): Promise<PooledTts[]> {
  const pool = await InferencePool.start({ name: 'tts', threads, engines: { tts: choices }, settings, ...(niceness === undefined ? {} : { niceness }) });
  return pool.ready.tts!.map((voice) => new PooledTts(pool, voice.id, voice.sampleRate));
}
