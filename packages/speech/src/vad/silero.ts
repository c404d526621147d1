import { resolveModelFile } from '@arc/models';
import { AudioInputError } from '../errors.js';
import { FrameSplitter } from '../audio/framing.js';
import { rms } from '../audio/pcm.js';
import { createSession, ort } from '../providers.js';
import { DEFAULT_SPEECH_SETTINGS, type SpeechSettings } from '../settings.js';
import { DEFAULT_VAD_OPTIONS, type SpeechSegment, type VadEngine, type VadEvent, type VadOptions, type VadSegmenter } from './types.js';

export const VAD_SAMPLE_RATE = 16000;
/** Silero v5 takes exactly 512 new samples (32 ms) per call at 16 kHz... */
export const VAD_FRAME_SAMPLES = 512;
/** ...preceded by the last 64 samples of the previous frame, as the reference wrapper does. */
const CONTEXT_SAMPLES = 64;
/** The quiet a sound is heard against: the quietest frame of the last 2 s... */
const QUIET_WINDOW_FRAMES = 62;
/** ...a frame this many times louder (10 dB) is sound; and never below this level (-50 dBFS). */
const SOUND_OVER_QUIET = 3.2;
const SOUND_MIN_LEVEL = 0.003;

/** The Silero v5 model: one loaded session, shared by any number of streams. */
export class SileroVad implements VadEngine {
  readonly sampleRate = VAD_SAMPLE_RATE;

  private constructor(
    readonly name: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Loads a Silero v5 model (`silero-vad-v5` from the model store, or `modelPath`) and warms it up. */
  static async load(options: { model?: string; modelPath?: string; settings?: SpeechSettings } = {}): Promise<SileroVad> {
    const settings = options.settings ?? DEFAULT_SPEECH_SETTINGS;
    const model = options.model ?? 'silero-vad-v5';
    const path = options.modelPath ?? resolveModelFile(model, 'silero_vad.onnx', undefined, settings.modelsDir);
    // One thread: a 32 ms frame is too small to gain from more, and it leaves cores to STT/TTS.
    const session = await createSession(path, { ...settings.session, intraOpThreads: 1, interOpThreads: 1 });
    const vad = new SileroVad(`silero:${model}`, session);
    const state = vad.newState();
    await vad.probability(new Float32Array(VAD_FRAME_SAMPLES), state);
    return vad;
  }

  newState(): VadModelState {
    return { rnn: new Float32Array(2 * 128), context: new Float32Array(CONTEXT_SAMPLES) };
  }

  /** Speech probability of one 512-sample frame; updates `state` (RNN state and context). */
  async probability(frame: Float32Array, state: VadModelState): Promise<number> {
    if (frame.length !== VAD_FRAME_SAMPLES) throw new AudioInputError(`VAD frame must have ${VAD_FRAME_SAMPLES} samples, got ${frame.length}`);
    const input = new Float32Array(CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);
    input.set(state.context, 0);
    input.set(frame, CONTEXT_SAMPLES);
    const out = await this.session.run({
      input: new ort.Tensor('float32', input, [1, input.length]),
      state: new ort.Tensor('float32', state.rnn, [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []),
    });
    state.rnn = (out['stateN'] as ort.Tensor).data as Float32Array;
    state.context = frame.slice(VAD_FRAME_SAMPLES - CONTEXT_SAMPLES);
    return ((out['output'] as ort.Tensor).data as Float32Array)[0] as number;
  }

  /** A streaming segmenter with its own state. */
  stream(options: Partial<VadOptions> = {}): VadStream {
    return new VadStream(this, { ...DEFAULT_VAD_OPTIONS, ...options });
  }

  /** Speech segments of a whole 16 kHz mono recording. */
  async segments(audio: Float32Array, options: Partial<VadOptions> = {}): Promise<SpeechSegment[]> {
    const stream = this.stream(options);
    const events = [...(await stream.push(audio)), ...(await stream.flush())];
    return events.filter((e): e is Extract<VadEvent, { type: 'speech-end' }> => e.type === 'speech-end').map(({ startMs, endMs }) => ({ startMs, endMs }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export interface VadModelState {
  rnn: Float32Array;
  context: Float32Array;
}

/**
 * Push 16 kHz audio in chunks of any size; get speech-start / speech-end events with times
 * measured from the first sample pushed. speech-start is emitted once speech has lasted
 * minSpeechMs (so a click never starts a turn) but carries the time speech actually began.
 */
export class VadStream implements VadSegmenter {
  private readonly splitter = new FrameSplitter(VAD_FRAME_SAMPLES);
  private readonly state: VadModelState;
  private readonly neg: number;
  private frames = 0;
  private speechStartMs: number | undefined; // first speech frame of the current candidate
  private triggered = false;
  private silenceStartMs: number | undefined; // first quiet frame while triggered
  private lastSpeechEndMs = 0; // end of the last frame at or above the threshold
  private lastProbability = 0;
  private pauseSent = false;
  private gapSent = false;
  private resumeStartMs: number | undefined; // first speech frame after a pause event
  private onsetRunStartMs: number | undefined; // first frame of the current run at or above the onset threshold
  private onsetSent = false;
  private onsetQuietStartMs: number | undefined;
  private soundStartMs: number | undefined; // first frame of the current run of sound (loud or likely speech)
  private soundSentFor: number | undefined; // the run of sound a `sound` event was sent for (once per run)
  private alerted = false; // an onset or sound event is out, neither dropped nor become speech
  private readonly recentLevels: number[] = [];
  private samplesPushed = 0;

  constructor(
    private readonly vad: SileroVad,
    readonly options: VadOptions,
  ) {
    this.state = vad.newState();
    this.neg = options.negThreshold ?? Math.max(0.01, options.threshold - 0.15);
  }

  /** Probability of the last processed frame (for meters and debugging). */
  get probability(): number {
    return this.lastProbability;
  }

  /** Milliseconds of audio processed so far. */
  get positionMs(): number {
    return (this.frames * VAD_FRAME_SAMPLES * 1000) / VAD_SAMPLE_RATE;
  }

  async push(chunk: Float32Array | Int16Array): Promise<VadEvent[]> {
    const events: VadEvent[] = [];
    this.samplesPushed += chunk.length;
    for (const frame of this.splitter.push(chunk)) await this.processFrame(frame, events);
    return events;
  }

  close(): void {
    // the state is garbage once the stream is dropped
  }

  /** Ends the stream: processes the padded tail and closes an open segment. */
  async flush(): Promise<VadEvent[]> {
    const events: VadEvent[] = [];
    const tail = this.splitter.flush();
    if (tail) await this.processFrame(tail, events);
    const startMs = this.speechStartMs;
    if (this.triggered && startMs !== undefined) {
      // The tail frame is zero-padded: the segment ends where the real audio ends.
      const endMs = Math.min(this.positionMs, (this.samplesPushed * 1000) / VAD_SAMPLE_RATE);
      events.push({ type: 'speech-end', startMs: this.padStart(startMs), endMs });
    }
    this.triggered = false;
    this.speechStartMs = undefined;
    this.silenceStartMs = undefined;
    this.pauseSent = false;
    this.gapSent = false;
    this.resumeStartMs = undefined;
    return events;
  }

  /** Barge-in's early signals: a run of sound, a short run of likely speech, and whether they faded without becoming speech. */
  private trackOnset(frame: Float32Array, p: number, frameStartMs: number, nowMs: number, events: VadEvent[]): void {
    const { onsetMs, onsetThreshold = this.options.threshold, soundOnsetMs, pauseMs = 200, minSpeechMs } = this.options;
    if (onsetMs === undefined || onsetMs >= minSpeechMs) return;
    const level = rms(frame);
    const quiet = this.recentLevels.length === 0 ? 0 : Math.min(...this.recentLevels);
    if (this.recentLevels.push(level) > QUIET_WINDOW_FRAMES) this.recentLevels.shift();
    if (p >= onsetThreshold || level >= Math.max(SOUND_MIN_LEVEL, quiet * SOUND_OVER_QUIET)) this.soundStartMs ??= frameStartMs;
    else this.soundStartMs = undefined;
    const sound = this.soundStartMs;
    if (soundOnsetMs !== undefined && sound !== undefined && !this.onsetSent && this.soundSentFor !== sound && nowMs - sound >= soundOnsetMs) {
      this.soundSentFor = sound;
      this.alerted = true;
      this.onsetQuietStartMs = undefined;
      events.push({ type: 'sound', startMs: sound });
    }
    if (p >= onsetThreshold) {
      this.onsetQuietStartMs = undefined;
      this.onsetRunStartMs ??= frameStartMs;
      const clearly = p >= (onsetThreshold + 1) / 2 && sound !== undefined && nowMs - sound >= onsetMs;
      if (!this.onsetSent && (clearly || nowMs - this.onsetRunStartMs >= onsetMs)) {
        this.onsetSent = true;
        this.alerted = true;
        events.push({ type: 'onset', startMs: clearly ? sound! : this.onsetRunStartMs });
      }
      return;
    }
    this.onsetRunStartMs = undefined;
    // Unlike speech for pauseMs: faded, even if a sound goes on (a fan, a cough); that run of
    // sound is spent, and only a new one sends a sound event again.
    if (this.alerted && p < this.neg) {
      this.onsetQuietStartMs ??= frameStartMs;
      if (nowMs - this.onsetQuietStartMs >= pauseMs) {
        this.onsetSent = false;
        this.alerted = false;
        this.onsetQuietStartMs = undefined;
        events.push({ type: 'onset-dropped' });
      }
    }
  }

  private padStart(ms: number): number {
    return Math.max(0, ms - this.options.speechPadMs);
  }

  private async processFrame(frame: Float32Array, events: VadEvent[]): Promise<void> {
    const frameStartMs = this.positionMs;
    const p = await this.vad.probability(frame, this.state);
    this.frames++;
    this.lastProbability = p;
    const nowMs = this.positionMs;
    const { threshold, minSpeechMs, minSilenceMs, speechPadMs } = this.options;
    if (!this.triggered) this.trackOnset(frame, p, frameStartMs, nowMs, events);
    if (p >= threshold) {
      this.lastSpeechEndMs = nowMs;
      this.silenceStartMs = undefined;
      this.gapSent = false;
      if (this.pauseSent) {
        // Speech after a pause: it counts as the user going on once it lasts minSpeechMs (a click does not).
        this.resumeStartMs ??= frameStartMs;
        if (nowMs - this.resumeStartMs >= minSpeechMs) {
          events.push({ type: 'resume', startMs: this.padStart(this.resumeStartMs) });
          this.pauseSent = false;
          this.resumeStartMs = undefined;
        }
      }
      this.speechStartMs ??= frameStartMs;
      if (!this.triggered && nowMs - this.speechStartMs >= minSpeechMs) {
        this.triggered = true;
        this.onsetSent = false; // the onset became speech
        this.alerted = false;
        this.onsetRunStartMs = undefined;
        this.onsetQuietStartMs = undefined;
        events.push({ type: 'speech-start', startMs: this.padStart(this.speechStartMs) });
      }
      return;
    }
    if (!this.triggered) {
      // A candidate that faded before reaching minSpeechMs is dropped once it has been quiet for long.
      if (this.speechStartMs !== undefined && p < this.neg) {
        this.silenceStartMs ??= frameStartMs;
        if (nowMs - this.silenceStartMs >= minSilenceMs) {
          this.speechStartMs = undefined;
          this.silenceStartMs = undefined;
        }
      }
      return;
    }
    if (p < this.neg) {
      this.silenceStartMs ??= frameStartMs;
      this.resumeStartMs = undefined;
      const { pauseMs, gapMs } = this.options;
      // Quiet since the last confident speech frame: the probability takes a frame or two to fall
      // below the hysteresis, and a pause is due after the speech, not after that fall.
      const quietMs = nowMs - this.lastSpeechEndMs;
      if (gapMs !== undefined && !this.gapSent && !this.pauseSent && quietMs >= gapMs && quietMs < (pauseMs ?? minSilenceMs)) {
        this.gapSent = true;
        events.push({ type: 'gap', startMs: this.padStart(this.speechStartMs as number), endMs: Math.min(this.lastSpeechEndMs + speechPadMs, nowMs) });
      }
      if (pauseMs !== undefined && !this.pauseSent && quietMs >= pauseMs && nowMs - this.silenceStartMs < minSilenceMs) {
        this.pauseSent = true;
        events.push({ type: 'pause', startMs: this.padStart(this.speechStartMs as number), endMs: Math.min(this.lastSpeechEndMs + speechPadMs, nowMs) });
      }
      if (nowMs - this.silenceStartMs >= minSilenceMs) {
        const startMs = this.padStart(this.speechStartMs as number);
        // Silero's probability lags the audio by a frame or two, so the segment ends where the
        // last confident speech frame ended, not where the probability finally fell.
        events.push({ type: 'speech-end', startMs, endMs: Math.min(this.lastSpeechEndMs + speechPadMs, nowMs) });
        this.triggered = false;
        this.speechStartMs = undefined;
        this.silenceStartMs = undefined;
        this.pauseSent = false;
        this.gapSent = false;
        this.resumeStartMs = undefined;
      }
    }
  }
}
