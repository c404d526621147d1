import type { SynthesisOptions, TtsChunk } from './piper.js';

/**
 * One interface for every TTS engine, so a voice or engine swap is configuration. `stream` yields
 * audio sentence by sentence (the first sentence can play while the next is synthesized).
 */
export interface TtsEngine {
  readonly id: string;
  readonly sampleRate: number;
  stream(text: string, options?: SynthesisOptions): AsyncGenerator<TtsChunk>;
  synthesize(text: string, options?: SynthesisOptions): Promise<{ audio: Int16Array; sampleRate: number }>;
  close(): Promise<void>;
}
