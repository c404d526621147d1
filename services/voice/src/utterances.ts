/**
 * From voice-activity events to what a conversation acts on: the user started speaking, an
 * utterance to transcribe (where it began and ended), the user stopped. Continuous speech past
 * the maximum turn length is cut into an utterance where it stands; the rest of that speech is
 * not transcribed again. A turn detector may end the utterance at a pause, before the VAD's
 * silence is over (`endTurn`); if the user then goes on, that speech starts a new utterance.
 * Pure: positions are sample counts of the stream.
 */
import type { VadEvent } from '@arc/speech';

export type UtteranceEvent =
  | { type: 'speech-start' }
  /** what may be the start of speech (barge-in acts on it), and its fading without becoming speech */
  | {
      type: 'onset';
      /** how long the sound had lasted when it became an onset, ms */
      soundMs: number;
      /** speech: the model rates it likely speech; sound: only loud so far (the first sound of "Stop") */
      cue: OnsetCue;
    }
  | { type: 'onset-dropped' }
  /** the user paused: this may be the whole utterance (transcribing it now saves time if so) */
  | { type: 'pause'; startSample: number; endSample: number }
  /** a short quiet before what may become a pause: transcribing now has the words ready sooner */
  | { type: 'gap'; startSample: number; endSample: number }
  | { type: 'utterance'; startSample: number; endSample: number; cut: boolean }
  | { type: 'speech-end' };

export type OnsetCue = 'speech' | 'sound';

export class UtteranceCutter {
  /** start of the utterance in progress (undefined between utterances) */
  private speechStart: number | undefined;
  private cut = false;
  /** the VAD segment goes on, but its utterance was ended at a pause */
  private endedEarly = false;
  /** counts pauses and resumptions: a judgment of a pause holds only while it is unchanged */
  private pauseCount = 0;
  private readonly maxTurnSamples: number;

  constructor(
    private readonly sampleRate: number,
    maxTurnMs: number,
  ) {
    this.maxTurnSamples = (maxTurnMs * sampleRate) / 1000;
  }

  /** The current pause, as a token: `endTurn` takes it, so a pause the user has since broken is not ended. */
  get pauseToken(): number {
    return this.pauseCount;
  }

  /** VAD events for the audio pushed so far (`end` samples in all) → utterance events, in order. */
  next(events: readonly VadEvent[], end: number): UtteranceEvent[] {
    const out: UtteranceEvent[] = [];
    for (const event of events) {
      if (event.type === 'speech-start') {
        this.speechStart = this.samples(event.startMs);
        this.cut = false;
        this.endedEarly = false;
        out.push({ type: 'speech-start' });
        continue;
      }
      if (event.type === 'onset' || event.type === 'sound') {
        out.push({ type: 'onset', soundMs: ((end - this.samples(event.startMs)) * 1000) / this.sampleRate, cue: event.type === 'onset' ? 'speech' : 'sound' });
        continue;
      }
      if (event.type === 'onset-dropped') {
        out.push({ type: 'onset-dropped' });
        continue;
      }
      if (event.type === 'resume') {
        this.pauseCount++;
        if (!this.endedEarly) continue; // the utterance simply goes on
        this.endedEarly = false;
        this.speechStart = this.samples(event.startMs);
        this.cut = false;
        out.push({ type: 'speech-start' });
        continue;
      }
      if (event.type === 'pause' || event.type === 'gap') {
        if (event.type === 'pause') this.pauseCount++;
        if (!this.cut && !this.endedEarly) out.push({ type: event.type, startSample: this.speechStart!, endSample: this.samples(event.endMs) });
        continue;
      }
      // speech-end
      if (!this.endedEarly) {
        if (!this.cut) out.push({ type: 'utterance', startSample: this.speechStart!, endSample: this.samples(event.endMs), cut: false });
        out.push({ type: 'speech-end' });
      }
      this.speechStart = undefined;
      this.cut = false;
      this.endedEarly = false;
    }
    if (this.speechStart !== undefined && !this.cut && !this.endedEarly && end - this.speechStart > this.maxTurnSamples) {
      this.cut = true;
      out.push({ type: 'utterance', startSample: this.speechStart, endSample: end, cut: true });
    }
    return out;
  }

  /**
   * The turn detector judged the pause `pauseToken` the end of the turn: the utterance ends at
   * `endSample`. Nothing if the user has gone on since, or the utterance was already handed out.
   */
  endTurn(pauseToken: number, endSample: number): UtteranceEvent[] {
    if (pauseToken !== this.pauseCount || this.speechStart === undefined || this.endedEarly || this.cut) return [];
    const startSample = this.speechStart;
    this.endedEarly = true;
    return [{ type: 'utterance', startSample, endSample, cut: false }, { type: 'speech-end' }];
  }

  /** Audio before this position is needed no more: one second before the current speech (VAD padding), or before `end`. */
  keepFrom(end: number): number {
    return (this.endedEarly ? end : (this.speechStart ?? end)) - this.sampleRate;
  }

  private samples(ms: number): number {
    return Math.round((ms * this.sampleRate) / 1000);
  }
}
