/**
 * One interface for every TTS engine, so a voice or engine swap is configuration. `stream` yields
 * audio sentence by sentence (the first sentence can play while the next is synthesized).
 */
export interface TtsEngine {
  /** the voice's model id, e.g. piper-en_US-joe-medium */
  readonly id: string;
  readonly sampleRate: number;
  stream(text: string, options?: SynthesisOptions): AsyncGenerator<TtsChunk>;
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
}

export interface TtsChunk {
  /** 0-based sentence number. */
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
