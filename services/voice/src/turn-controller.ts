/**
 * The conversation's turns as an explicit state machine, with no I/O of its own: it is driven by
 * what the user does (speech starts and ends, transcripts), by the brain (partials, response,
 * error), by TTS (completions, failures) and by a clock, and it acts through small ports (ask
 * the brain, speak a sentence, cancel speech, report an error). Every transition can be driven by
 * a millisecond test with fakes.
 *
 *   listening ──speech──▶ user_speaking ──speech end──▶ transcribing ──transcript──▶ thinking
 *       ▲                      ▲  ▲                          │ (no words)              │ first sentence,
 *       │                      │  └──────────────────────────┘                        │ answer, error
 *       │                      │ speech (superseded / barge-in)                        ▼ or timeout
 *       └────── all sentences played (or failed) ─────────────────────────── agent_speaking
 *
 * Barge-in is one event: speech while the agent talks cancels its playback, stops the brain if
 * it is still generating, stops routing the rest of the answer and records the turn as
 * interrupted. Speech while a turn is still thinking supersedes it: the brain is told to stop and
 * its late answer is dropped.
 */
import type { BrainError, BrainPartial, BrainResponse, PreviousTurn, TtsCompleted, VoiceErrorType } from '@arc/contracts';
import type { Logger } from '@arc/runtime';
import type { OnsetCue } from './utterances.js';

/** this many stops on sound alone that faded, each within this long of the first, turn them off */
const FALSE_SOUND_STOPS_MAX = 3;
const FALSE_SOUND_STOPS_WITHIN_MS = 10_000;

export type TurnState = 'listening' | 'user_speaking' | 'transcribing' | 'thinking' | 'agent_speaking' | 'ended';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BrainTurnRequest {
  requestId: string;
  traceId: string;
  turnIndex: number;
  userText: string;
  previousTurns: PreviousTurn[];
}

export interface SpokenSentence {
  /** `<turn request id>-s<n>`: TTS completions and errors carry it back */
  requestId: string;
  traceId: string;
  text: string;
}

/** What the controller acts through (the bus, the TTS router). */
export interface TurnPorts {
  /** publishes agent.brain.request */
  requestBrain(request: BrainTurnRequest): void;
  /** sends one sentence to the room's TTS worker; resolves once a worker took it */
  speak(sentence: SpokenSentence): Promise<void>;
  /** agent.tts.cancel for the room */
  cancelSpeech(traceId: string, reason: string): void;
  /** agent.brain.cancel: the brain stops generating an answer nobody will hear */
  cancelThinking(requestId: string, traceId: string, reason: string): void;
  /** agent.voice.error */
  reportError(errorType: VoiceErrorType, message: string, requestId?: string): void;
  /** a failed speak() that means no TTS worker is there (rather than another failure) */
  isNoWorker(error: unknown): boolean;
  /** no TTS worker took the room (all full, or none): the busy notice, which even a full worker speaks */
  noticeBusy(traceId: string): void;
}

export interface TurnControllerOptions {
  ports: TurnPorts;
  logger: Logger;
  clock?: Clock;
  /** no word from the brain for this long → the fallback is spoken */
  brainTimeoutMs: number;
  fallbackResponse: string;
  maxPreviousTurns: number;
  /**
   * Words said over the agent that only show the user is listening ("mm-hmm", "okay"): the
   * agent resumes rather than giving up the turn. Without it, every interruption is a barge-in.
   */
  isBackchannel?: (transcript: string) => boolean;
  newRequestId: () => string;
  newTraceId: () => string;
  /**
   * Records a measured stage in the worker's metrics and, as a span from `startMs` (clock time),
   * in the turn's trace; `root` is the turn's own span (voice_to_voice).
   */
  observe?: (stage: string, ms: number, traceId: string, options: { startMs: number; root?: boolean; attributes?: Record<string, string | number> }) => void;
}

interface Turn {
  index: number;
  requestId: string;
  traceId: string;
  /** clock time the user stopped speaking */
  speechEndAt: number;
  history: PreviousTurn;
  /** sentences waiting for an earlier sequence number */
  early: Map<number, string>;
  nextSequence: number;
  spoken: string[];
  /** sentence request id → clock time it was sent (in the order spoken) */
  sentAt: Map<string, number>;
  /** sentence request id → the words of it the user heard (all of it once played out) */
  heard: Map<string, string>;
  pending: Set<string>;
  /** the brain is done with this turn (response, error or timeout) */
  answered: boolean;
  timer: unknown;
  measured: boolean;
  /** the busy notice was sent for this turn */
  noticed: boolean;
  /**
   * The user cut in: playback is stopped, but until their words are known the turn is only
   * suspended. Sentences the brain sends meanwhile are held; a noise or a backchannel resumes.
   */
  suspended: boolean;
  held: string[];
  /** sentences sent to TTS so far, resumed ones included (their request ids count on) */
  sent: number;
  /** the brain's whole answer, once it came */
  answer: string | undefined;
}

export class TurnController {
  private state: TurnState = 'listening';
  private turn: Turn | undefined;
  private turnCount = 0;
  private readonly history: PreviousTurn[] = [];
  private readonly voiceToVoice: number[] = [];
  private readonly clock: Clock;
  /** the agent was stopped by an onset that has not (yet) become speech: by sound alone, or with a cue of speech since */
  private stoppedByOnset: OnsetCue | undefined;
  /** clock times of recent stops on a sound that faded without speech */
  private falseSoundStops: number[] = [];
  /** sound alone no longer stops the agent (false stops came in a burst: its own voice coming back?) */
  soundStopsOff = false;
  /** answers resumed after a false interruption or a backchannel */
  resumes = 0;
  /** words of a turn the user went on from: they open the next transcript */
  private carried: string | undefined;
  /** the last turn cut by a barge-in: reports of what was heard of it still come in */
  private interrupted: Turn | undefined;

  constructor(private readonly options: TurnControllerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  get current(): TurnState {
    return this.state;
  }

  get turns(): number {
    return this.turnCount;
  }

  /** end of user speech → first agent audio, per answered turn (ms) */
  get voiceToVoiceSamples(): readonly number[] {
    return this.voiceToVoice;
  }

  /** the agent is stopped for the user's interruption, until its words are known */
  get suspended(): boolean {
    return this.turn?.suspended ?? false;
  }

  /** what the conversation has been, as sent to the brain */
  get previousTurns(): readonly PreviousTurn[] {
    return this.history;
  }

  /** Does a brain or TTS event with this request id belong to the turn in progress (or to what was heard of the last one cut)? */
  owns(requestId: string): boolean {
    const turn = this.turn;
    if (turn !== undefined && (requestId === turn.requestId || turn.sentAt.has(requestId))) return true;
    return this.interrupted?.sentAt.has(requestId) ?? false;
  }

  // ------------------------------------------------------------------ the user

  /** VAD: the user started speaking (for at least the minimum speech length). */
  speechStarted(): void {
    if (this.state === 'ended') return;
    this.stoppedByOnset = undefined;
    const turn = this.turn;
    if (turn?.suspended) {
      // already stopped for the user: their words decide
    } else if (turn && (turn.pending.size > 0 || turn.spoken.length > 0)) {
      // Over the agent, or between two of its sentences while the brain sends the next: an
      // interruption all the same, which a backchannel or a noise does not end.
      this.bargeIn(turn);
    } else if (turn) this.goOn(turn);
    this.state = 'user_speaking';
  }

  /**
   * VAD: a short window of likely speech (or of sound, the first sound of "Stop") while the agent
   * talks: stop it now (barge-in), before it counts as speech. If it fades without becoming
   * speech, onsetFaded() resumes.
   */
  speechOnset(soundMs?: number, cue: OnsetCue = 'speech'): void {
    const turn = this.turn;
    if (cue === 'speech' && this.stoppedByOnset) this.stoppedByOnset = 'speech';
    if (cue === 'sound' && this.soundStopsOff) return;
    if (this.state === 'ended' || !turn || turn.suspended || turn.pending.size === 0) return;
    this.bargeIn(turn, soundMs, cue);
    this.stoppedByOnset = cue;
  }

  /** VAD: the onset that stopped the agent was not speech after all (a click, a bump). */
  onsetFaded(): void {
    const turn = this.turn;
    const cue = this.stoppedByOnset;
    if (!cue || !turn?.suspended) return;
    this.stoppedByOnset = undefined;
    if (cue === 'sound') this.falseSoundStop();
    this.resume(turn, '');
  }

  /**
   * Sound that stops the agent and fades, again and again within a short time, is most likely the
   * agent's own voice coming back (a speakerphone without echo cancellation): from then on only
   * likely speech stops it, at the barge-in threshold.
   */
  private falseSoundStop(): void {
    const now = this.clock.now();
    this.falseSoundStops = [...this.falseSoundStops.filter((at) => now - at < FALSE_SOUND_STOPS_WITHIN_MS), now];
    if (this.falseSoundStops.length < FALSE_SOUND_STOPS_MAX) return;
    this.soundStopsOff = true;
    this.options.logger.warn(
      { false_stops: this.falseSoundStops.length, within_ms: FALSE_SOUND_STOPS_WITHIN_MS },
      'sound alone no longer stops the agent in this session: it stopped it for nothing again and again (the agent heard back?)',
    );
  }

  /** VAD: the user stopped speaking; a transcript follows. */
  speechEnded(): void {
    if (this.state === 'user_speaking') this.state = 'transcribing';
  }

  /** STT: the words of a finished utterance (empty when there were none) and when it ended. */
  transcript(text: string, speechEndAt: number): void {
    if (this.state === 'ended') return;
    const cut = this.turn?.suspended ? this.turn : undefined;
    if (cut) {
      const said = text.trim();
      if (!said || this.options.isBackchannel?.(said)) return this.resume(cut, said);
      this.confirmBargeIn(cut);
    }
    const carried = this.carried;
    this.carried = undefined;
    const words = [carried, text.trim()].filter(Boolean).join(' ');
    if (!words) {
      if (this.state === 'transcribing') this.state = 'listening';
      return;
    }
    if (this.turn && (this.state === 'thinking' || this.state === 'agent_speaking')) this.supersede(this.turn, 'a newer turn');
    this.startTurn(words, speechEndAt);
    // end of speech → transcript: the end-of-turn wait plus what STT still had to do
    if (this.turn) this.options.observe?.('end_of_speech_to_transcript', this.clock.now() - speechEndAt, this.turn.traceId, { startMs: speechEndAt });
  }

  // ------------------------------------------------------------------ the brain

  brainPartial(partial: BrainPartial): void {
    const turn = this.activeTurn(partial.request_id);
    if (!turn || turn.answered) return;
    this.armBrainTimer(turn); // the brain is still at it
    turn.early.set(partial.sequence, partial.text);
    // Sentences may cross the bus out of order; speak them in sequence.
    while (turn.early.has(turn.nextSequence)) {
      const text = turn.early.get(turn.nextSequence)!;
      turn.early.delete(turn.nextSequence++);
      this.say(turn, text);
    }
  }

  brainResponse(response: BrainResponse): void {
    const turn = this.activeTurn(response.request_id);
    if (!turn || turn.answered) return;
    this.answered(turn);
    turn.answer = response.agent_response;
    if (!turn.suspended) turn.history.agent = response.agent_response;
    if (turn.spoken.length === 0 && response.agent_response.trim()) this.say(turn, response.agent_response);
    this.finishIfDone(turn);
  }

  brainError(error: BrainError): void {
    const turn = this.activeTurn(error.request_id);
    if (!turn || turn.answered) return;
    this.answered(turn);
    turn.answer = error.fallback_response;
    if (!turn.suspended) turn.history.agent = error.fallback_response;
    if (error.fallback_response.trim()) this.say(turn, error.fallback_response);
    this.finishIfDone(turn);
  }

  // ------------------------------------------------------------------ TTS

  ttsCompleted(completed: TtsCompleted): void {
    const cut = this.interrupted;
    if (cut?.sentAt.has(completed.request_id)) return this.heardBeforeCut(cut, completed);
    const turn = this.turn;
    if (!turn || !turn.pending.has(completed.request_id)) return;
    if (completed.status !== 'cancelled') turn.heard.set(completed.request_id, turn.spoken[[...turn.sentAt.keys()].indexOf(completed.request_id)] ?? '');
    if (!turn.measured && completed.time_to_first_audio_ms !== undefined && completed.status !== 'cancelled') {
      turn.measured = true;
      const sentAt = turn.sentAt.get(completed.request_id)!;
      const ms = Math.max(0, sentAt + completed.time_to_first_audio_ms - turn.speechEndAt);
      this.voiceToVoice.push(ms);
      this.options.observe?.('voice_to_voice', ms, turn.traceId, { startMs: turn.speechEndAt, root: true, attributes: { 'arc.request_id': turn.requestId, 'arc.turn_index': turn.index } });
      this.options.logger.info({ request_id: turn.requestId, voice_to_voice_ms: Math.round(ms) }, 'voice-to-voice latency');
    }
    turn.pending.delete(completed.request_id);
    this.finishIfDone(turn);
  }

  ttsFailed(requestId: string): void {
    const turn = this.turn;
    if (!turn || !turn.pending.delete(requestId)) return;
    this.finishIfDone(turn);
  }

  /** The session is over: nothing more is said. */
  end(reason: string): void {
    if (this.state === 'ended') return;
    const turn = this.turn;
    if (turn && turn.pending.size > 0) this.options.ports.cancelSpeech(turn.traceId, reason);
    if (turn) this.clock.clearTimeout(turn.timer);
    this.turn = undefined;
    this.state = 'ended';
  }

  // ------------------------------------------------------------------ internals

  private startTurn(userText: string, speechEndAt: number): void {
    const { ports, maxPreviousTurns } = this.options;
    const turn: Turn = {
      index: this.turnCount++,
      requestId: this.options.newRequestId(),
      traceId: this.options.newTraceId(),
      speechEndAt,
      history: { user: userText, agent: '' },
      early: new Map(),
      nextSequence: 0,
      spoken: [],
      sentAt: new Map(),
      heard: new Map(),
      pending: new Set(),
      answered: false,
      timer: undefined,
      measured: false,
      noticed: false,
      suspended: false,
      held: [],
      sent: 0,
      answer: undefined,
    };
    const previousTurns = maxPreviousTurns > 0 ? this.history.slice(-maxPreviousTurns).map((t) => ({ ...t })) : [];
    this.turn = turn;
    this.state = 'thinking';
    this.history.push(turn.history);
    ports.requestBrain({ requestId: turn.requestId, traceId: turn.traceId, turnIndex: turn.index, userText, previousTurns });
    this.armBrainTimer(turn);
  }

  private armBrainTimer(turn: Turn): void {
    this.clock.clearTimeout(turn.timer);
    turn.timer = this.clock.setTimeout(() => this.brainTimedOut(turn), this.options.brainTimeoutMs);
  }

  private brainTimedOut(turn: Turn): void {
    if (this.turn !== turn || turn.answered) return;
    const { brainTimeoutMs, fallbackResponse, logger, ports } = this.options;
    this.answered(turn);
    if (turn.spoken.length > 0) {
      // Part of the answer is out; the brain went quiet. Let what was said stand.
      logger.warn({ request_id: turn.requestId, timeout_ms: brainTimeoutMs }, 'the brain stopped mid-answer');
      ports.reportError('brain_timeout', `no word from the brain for ${brainTimeoutMs} ms after ${turn.spoken.length} sentences`, turn.requestId);
      turn.history.agent = turn.spoken.join(' ');
    } else {
      logger.warn({ request_id: turn.requestId, timeout_ms: brainTimeoutMs }, 'no brain answer in time; speaking the fallback');
      ports.reportError('brain_timeout', `no brain answer within ${brainTimeoutMs} ms; spoke the fallback`, turn.requestId);
      turn.history.agent = fallbackResponse;
      this.say(turn, fallbackResponse);
    }
    this.finishIfDone(turn);
  }

  private answered(turn: Turn): void {
    turn.answered = true;
    this.clock.clearTimeout(turn.timer);
  }

  private say(turn: Turn, text: string): void {
    if (turn.suspended) {
      turn.held.push(text);
      return;
    }
    const sentence: SpokenSentence = { requestId: `${turn.requestId}-s${turn.sent++}`, traceId: turn.traceId, text };
    turn.spoken.push(text);
    turn.sentAt.set(sentence.requestId, this.clock.now());
    turn.pending.add(sentence.requestId);
    if (this.turn === turn) this.state = 'agent_speaking';
    this.options.ports.speak(sentence).catch((error: unknown) => {
      const noWorker = this.options.ports.isNoWorker(error);
      this.options.ports.reportError(noWorker ? 'no_tts_worker' : 'tts_request_failed', (error as Error).message, turn.requestId);
      if (noWorker && !turn.noticed) {
        turn.noticed = true;
        this.options.ports.noticeBusy(turn.traceId);
      }
      this.ttsFailed(sentence.requestId);
    });
  }

  /** All of an answered turn's sentences have played (or failed): back to listening. */
  private finishIfDone(turn: Turn): void {
    if (this.turn !== turn || !turn.answered || turn.pending.size > 0 || turn.suspended) return;
    this.turn = undefined;
    if (this.state === 'agent_speaking' || this.state === 'thinking') this.state = 'listening';
  }

  /**
   * The user spoke over the agent: stop it. The history keeps only what the user heard: the
   * sentences that played out, and of those cut, the words TTS reports as heard (they arrive
   * with its cancelled completions, shortly after).
   */
  private bargeIn(turn: Turn, soundMs?: number, cue?: OnsetCue): void {
    const onset = soundMs === undefined ? {} : { onset_sound_ms: Math.round(soundMs), onset_cue: cue };
    this.options.logger.info({ request_id: turn.requestId, ...onset }, 'barge-in: cancelling agent speech');
    this.options.ports.cancelSpeech(turn.traceId, 'barge_in');
    turn.history.interrupted = true;
    this.interrupted = turn;
    this.recordHeard(turn);
    if (!this.options.isBackchannel) return this.confirmBargeIn(turn);
    // Stopped at once; given up only if the user's words turn out to take the turn.
    turn.suspended = true;
    turn.pending.clear();
  }

  /** The interruption holds words that take the turn: the answer is over for good. */
  private confirmBargeIn(turn: Turn): void {
    if (!turn.answered) this.options.ports.cancelThinking(turn.requestId, turn.traceId, 'barge_in');
    turn.suspended = false;
    this.drop(turn);
  }

  /**
   * A false interruption (no words: a noise, a cough) or a backchannel: the agent goes on from
   * the sentence it was cut in, then with what the brain sent meanwhile.
   */
  private resume(turn: Turn, said: string): void {
    this.options.logger.info({ request_id: turn.requestId, said }, said ? 'backchannel: the agent goes on' : 'false interruption: the agent goes on');
    this.resumes++;
    const ids = [...turn.sentAt.keys()];
    const cutAt = ids.findIndex((id, i) => turn.heard.get(id) !== turn.spoken[i]);
    const again = [...(cutAt < 0 ? [] : turn.spoken.slice(cutAt)), ...turn.held];
    for (const id of cutAt < 0 ? [] : ids.slice(cutAt)) {
      turn.sentAt.delete(id);
      turn.heard.delete(id);
    }
    turn.spoken.splice(cutAt < 0 ? turn.spoken.length : cutAt);
    turn.held = [];
    turn.suspended = false;
    delete turn.history.interrupted;
    turn.history.agent = turn.answer ?? '';
    if (this.interrupted === turn) this.interrupted = undefined;
    this.state = turn.answered && again.length === 0 ? 'listening' : 'thinking';
    for (const text of again) this.say(turn, text);
    this.finishIfDone(turn);
  }

  /** A cancelled sentence of an interrupted turn: TTS says how much of it was heard. */
  private heardBeforeCut(turn: Turn, completed: TtsCompleted): void {
    const text = turn.spoken[[...turn.sentAt.keys()].indexOf(completed.request_id)] ?? '';
    turn.heard.set(completed.request_id, completed.status === 'cancelled' ? (completed.heard_text ?? '') : text);
    this.recordHeard(turn);
  }

  private recordHeard(turn: Turn): void {
    turn.history.agent = [...turn.sentAt.keys()]
      .map((id) => turn.heard.get(id) ?? '')
      .filter(Boolean)
      .join(' ');
  }

  /**
   * The user went on speaking before any of the answer was said: the turn was not over after
   * all (a pause taken for its end, a preemptive request). Its request is cancelled, and its
   * words open the next transcript, so the brain is asked again with the whole of what was said.
   */
  private goOn(turn: Turn): void {
    if (turn.spoken.length === 0) {
      this.carried = turn.history.user;
      const at = this.history.lastIndexOf(turn.history);
      if (at >= 0) this.history.splice(at, 1);
      this.turnCount--;
    }
    this.supersede(turn, 'the user went on speaking before the answer was spoken');
  }

  private supersede(turn: Turn, why: string): void {
    this.options.logger.debug({ request_id: turn.requestId, why }, 'turn superseded');
    if (turn.pending.size > 0) this.options.ports.cancelSpeech(turn.traceId, 'superseded');
    if (!turn.answered) this.options.ports.cancelThinking(turn.requestId, turn.traceId, 'superseded');
    this.drop(turn);
  }

  private drop(turn: Turn): void {
    this.clock.clearTimeout(turn.timer);
    turn.answered = true;
    turn.pending.clear();
    if (this.turn === turn) this.turn = undefined;
  }

  /** The turn in progress, if an event is for it. */
  private activeTurn(requestId: string): Turn | undefined {
    const turn = this.turn;
    return turn && turn.requestId === requestId ? turn : undefined;
  }
}
