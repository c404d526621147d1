import type { SpeakingUnit } from './text.js';

/**
 * One interface for every TTS engine, so a voice or engine swap is configuration. `stream` yields
 * audio sentence by sentence (the first sentence can play while the next is synthesized).
 */
export interface TtsEngine {
  /** the voice's model id, e.g. piper-en_US-joe-medium */
  readonly id: string;
  readonly sampleRate: number;
  stream(text: string, options?: SynthesisOptions): AsyncGenerator<TtsChunk>;
  /** one unit's audio (a sentence or part of one, see speakingUnits); undefined when it has nothing speakable */
  unit(unit: SpeakingUnit, options?: SynthesisOptions): Promise<Omit<TtsChunk, 'index'> | undefined>;
  synthesize(text: string, options?: SynthesisOptions): Promise<{ audio: Int16Array; sampleRate: number }>;
  close(): Promise<void>;
}

export interface SynthesisOptions {
  /** Speaker number or name for multi-speaker voices (default 0). */
  speaker?: number | string;
  /** Overrides of the voice config's inference settings. */
  noiseScale?: number;
  lengthScale?: number;
  noiseW?: number;
  /** Silence appended after each sentence except the last (Piper's default is 200 ms). */
  sentenceSilenceMs?: number;
  /** Stops between sentences when aborted (barge-in). */
  signal?: AbortSignal;
  /** Rate of the audio wanted (default: the voice's own); resampling happens where synthesis runs. */
  sampleRate?: number;
  /** Speak the first part of a long first sentence on its own, so the first audio comes sooner (default false). */
  shortFirstChunk?: boolean;
}

export interface TtsChunk {
  /** 0-based number of the chunk: a sentence, or the first part of a long first sentence (shortFirstChunk). */
  index: number;
  text: string;
  phonemes: string;
  /** 16-bit mono PCM at `sampleRate`. */
  audio: Int16Array;
  sampleRate: number;
  /** Time spent phonemizing and running the model for this sentence. */
  phonemizeMs: number;
  synthesisMs: number;
}
