/**
 * One interface for every voice-activity detector, so the engine is configuration. A segmenter is
 * a stream with its own state: push 16 kHz audio in chunks of any size, get speech-start and
 * speech-end events with times measured from the first sample pushed.
 */
export interface VadEngine {
  readonly name: string;
  readonly sampleRate: 16000;
  stream(options?: Partial<VadOptions>): VadSegmenter;
  close(): Promise<void>;
}

export interface VadSegmenter {
  push(chunk: Float32Array | Int16Array): Promise<VadEvent[]>;
  /** ends the stream: closes an open segment */
  flush(): Promise<VadEvent[]>;
  /** lets go of the stream's state */
  close(): void;
}

export interface VadOptions {
  /** Speech probability at or above which a frame counts as speech. */
  threshold: number;
  /** Probability below which speech is considered over (hysteresis; default threshold - 0.15). */
  negThreshold?: number;
  /** Speech shorter than this is ignored (clicks, coughs). */
  minSpeechMs: number;
  /** Silence must last this long before speech is declared over. */
  minSilenceMs: number;
  /** Added before the start and after the end of each segment. */
  speechPadMs: number;
  /** Emit a `pause` event after this much silence inside a segment, counted from the end of the last frame at or above the threshold (default: none). */
  pauseMs?: number;
  /**
   * Emit a `gap` event after this much silence inside a segment, sooner than `pauseMs`: work a
   * pause would need (a transcription of the speech so far) can start before the pause is there.
   * Default: none.
   */
  gapMs?: number;
  /**
   * Emit an `onset` event once speech at or above `onsetThreshold` has lasted this long, before
   * it counts as speech (minSpeechMs): barge-in acts on it. If it fades instead, `onset-dropped`
   * follows after `pauseMs` (or 200 ms) of quiet. Default: none.
   *
   * Silero rates a word's first fricative or plosive low ("Stop", "Sorry": 100–130 ms near 0 on
   * espeak). So an onset also comes as soon as a frame is clearly speech (halfway from
   * `onsetThreshold` to 1) after the sound that led into it has lasted `onsetMs`: frames louder
   * than the quiet before them, or likely speech, without a break.
   */
  onsetMs?: number;
  /** speech probability of an onset (default: threshold) */
  onsetThreshold?: number;
  /**
   * With onsetMs: emit a `sound` event once a run of sound (frames 10 dB over the quiet of the
   * last 2 s, or likely speech) has lasted this long, before the model rates it speech — the
   * first sound of "Stop" or "Sorry" is rated low for 100 ms and more. Once per run; it fades
   * (`onset-dropped`) as an onset does. Default: none.
   */
  soundOnsetMs?: number;
}

export const DEFAULT_VAD_OPTIONS: VadOptions = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 300, speechPadMs: 30 };

export type VadEvent =
  | { type: 'speech-start'; startMs: number }
  /**
   * The user has been quiet for `pauseMs` inside a segment: it may be the end (speech-end follows
   * after minSilenceMs) or a pause (speech goes on). Lets work on the segment so far start early.
   */
  | { type: 'pause'; startMs: number; endMs: number }
  /** a short quiet inside a segment (see VadOptions.gapMs), once per quiet; a pause may follow */
  | { type: 'gap'; startMs: number; endMs: number }
  /** after a pause, speech again (for at least minSpeechMs) within the same segment: the user went on */
  | { type: 'resume'; startMs: number }
  /** the first onsetMs of what may be speech (see VadOptions.onsetMs) */
  | { type: 'onset'; startMs: number }
  /** a run of sound of soundOnsetMs, which may be speech the model does not rate as such yet (see VadOptions.soundOnsetMs) */
  | { type: 'sound'; startMs: number }
  /** an onset or a sound that faded without becoming speech */
  | { type: 'onset-dropped' }
  | { type: 'speech-end'; startMs: number; endMs: number };

export interface SpeechSegment {
  startMs: number;
  endMs: number;
}
