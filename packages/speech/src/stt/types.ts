/** What every speech-to-text engine returns for one utterance. */
export interface Transcript {
  text: string;
  /** Length of the audio that was transcribed. */
  audioMs: number;
  /** Wall-clock time of the whole call and of its parts. */
  timings: { totalMs: number; encodeMs: number; decodeMs: number };
  /** Tokens generated (after dropping special tokens). */
  tokens: number;
}

export interface TranscribeOptions {
  /** Upper bound on generated tokens; by default derived from the audio length. */
  maxTokens?: number;
  /** in how long the result is needed (a scheduler runs what is due sooner first; default now) */
  dueInMs?: number;
}

/**
 * One interface for every STT engine so swapping engines is a config change.
 * Input is always 16 kHz mono float audio (see `loadAudio`/`resample`).
 */
export interface SttEngine {
  readonly name: string;
  readonly sampleRate: 16000;
  transcribe(audio: Float32Array, options?: TranscribeOptions): Promise<Transcript>;
  close(): Promise<void>;
}
