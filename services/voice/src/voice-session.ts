/**
 * One conversation: a user in a LiveKit room. The room listener brings the user's audio in at
 * 16 kHz; VAD finds speech in it and the utterance buffer gives each utterance to STT; the turn
 * controller asks the brain and has TTS speak the answer. The session publishes its start and
 * end, and wires the controller's ports to the bus and the TTS router.
 */
import { newRequestId, newTraceId, type VoiceErrorType } from '@arc/contracts';
import { NoWorkerError, type Bus, type StickyRouter } from '@arc/bus';
import { observeStage, type CommonConfig, type Logger } from '@arc/runtime';
import { UtteranceBuffer, int16ToFloat32, type SttEngine, type Transcript, type TurnDetector, type VadEngine, type VadSegmenter } from '@arc/speech';
import type { VoiceConfig } from './config.js';
import { RoomListener } from './room-listener.js';
import { TurnController } from './turn-controller.js';
import { isBackchannel, pauseVerdict, type PauseVerdict } from './turn-policy.js';
import { UtteranceCutter, type UtteranceEvent } from './utterances.js';

const SAMPLE_RATE = 16_000;
const VERDICT_LOGS: Record<PauseVerdict, string> = {
  over: 'pause judged the end of the turn',
  'over-if-quiet': 'pause judged the end of the turn if the user stays quiet',
  'not-over': 'pause judged mid-turn: listening on',
};
/** shorter utterances are not worth a transcription */
const MIN_UTTERANCE_SAMPLES = SAMPLE_RATE / 10;

export interface SessionInit {
  roomName: string;
  roomSid?: string;
  userIdentity: string;
  participantSid: string;
  trackSid: string;
  /** participant metadata or attributes, parsed when JSON */
  userProfile?: Record<string, unknown>;
  traceId: string;
}

export interface SessionDeps {
  bus: Bus;
  config: CommonConfig & VoiceConfig;
  logger: Logger;
  vad: VadEngine;
  stt: SttEngine;
  /** smart-turn mode: judges at each pause whether the turn is over (else VAD silence alone ends it) */
  turnDetector?: TurnDetector;
  tts: StickyRouter<'agent.tts.request'>;
  instanceId: string;
  service: string;
  /** called once, with the reason the session ended */
  onEnded: (session: VoiceSession, reason: string) => void;
  /** no TTS worker took the room: the busy notice, spoken by any TTS worker */
  noticeBusy: (traceId: string) => void;
}

export class VoiceSession {
  readonly sessionId = `session-${newRequestId('v').slice(2, 14)}`;
  readonly startedAt = Date.now();
  /** the session's claim in agent.voice.session.started: of two sessions of one track, the earlier stays */
  readonly startedIso = new Date(this.startedAt).toISOString();
  private readonly turns: TurnController;
  private readonly audio = new UtteranceBuffer(SAMPLE_RATE);
  private readonly cutter: UtteranceCutter;
  private readonly vad: VadSegmenter;
  private listener: RoomListener | undefined;
  private sttChain: Promise<void> = Promise.resolve();
  /** the transcription started at a pause, used if the pause turns out to end the utterance */
  private early: { startSample: number; endSample: number; transcript: Promise<Transcript> } | undefined;
  private ended = false;
  /** Date.now() of the last frame of the user's audio (a live microphone sends frames all the time, silence included) */
  private lastAudioAt: number | undefined;
  /** smart-turn judgments of this session's pauses (over-if-quiet: the words read finished, the model heard more coming) */
  readonly turnJudgments: Record<PauseVerdict | 'failed', number> = { over: 0, 'over-if-quiet': 0, 'not-over': 0, failed: 0 };
  /** a pause that ends the turn once the audio reaches `atSample` with the user still quiet (the token unchanged) */
  private quietEnd: { token: number; endSample: number; atSample: number } | undefined;
  private readonly backchannel: (text: string) => boolean;

  constructor(
    readonly init: SessionInit,
    private readonly deps: SessionDeps,
  ) {
    const { config, bus, logger } = deps;
    this.cutter = new UtteranceCutter(SAMPLE_RATE, config.VOICE_MAX_TURN_MS);
    // smart-turn: the model judges every pause; silence alone ends a turn only after the maximum.
    const silence = deps.turnDetector
      ? {
          minSilenceMs: config.VOICE_TURN_MAX_SILENCE_MS,
          pauseMs: config.VOICE_TURN_PAUSE_MS,
          ...(config.VOICE_TURN_STT_MS > 0 && config.VOICE_TURN_STT_MS < config.VOICE_TURN_PAUSE_MS ? { gapMs: config.VOICE_TURN_STT_MS } : {}),
        }
      : {
          minSilenceMs: config.VOICE_EOU_SILENCE_MS,
          ...(config.VOICE_EARLY_STT_MS > 0 && config.VOICE_EARLY_STT_MS < config.VOICE_EOU_SILENCE_MS ? { pauseMs: config.VOICE_EARLY_STT_MS } : {}),
        };
    this.vad = deps.vad.stream({
      threshold: config.VOICE_VAD_THRESHOLD,
      minSpeechMs: config.VOICE_MIN_SPEECH_MS,
      speechPadMs: 30,
      ...silence,
      // barge-in: a short window of likely speech, or of sound, stops the agent (a false one resumes)
      ...(config.VOICE_BARGE_IN_MS < config.VOICE_MIN_SPEECH_MS ? { onsetMs: config.VOICE_BARGE_IN_MS, onsetThreshold: config.VOICE_BARGE_IN_THRESHOLD } : {}),
      ...(config.VOICE_BARGE_IN_SOUND_MS > 0 ? { soundOnsetMs: config.VOICE_BARGE_IN_SOUND_MS } : {}),
    });
    const room = init.roomName;
    const backchannels = new Set(config.VOICE_BACKCHANNELS.split(','));
    this.backchannel = (text) => isBackchannel(text, backchannels, config.VOICE_BACKCHANNEL_MAX_WORDS);
    this.turns = new TurnController({
      logger: logger.child({ room, session_id: this.sessionId }),
      brainTimeoutMs: config.VOICE_BRAIN_TIMEOUT_MS,
      fallbackResponse: config.VOICE_FALLBACK_RESPONSE,
      maxPreviousTurns: config.VOICE_MAX_PREVIOUS_TURNS,
      ...(config.VOICE_INTERRUPTION_RESUME ? { isBackchannel: this.backchannel } : {}),
      newRequestId: () => newRequestId('req'),
      newTraceId,
      observe: observeStage,
      ports: {
        requestBrain: (turn) =>
          bus.publish('agent.brain.request', {
            request_id: turn.requestId,
            trace_id: turn.traceId,
            user_id: init.userIdentity,
            session_id: this.sessionId,
            conversation_id: this.sessionId,
            turn_index: turn.turnIndex,
            user_input: turn.userText.slice(0, 20_000),
            context: { previous_turns: turn.previousTurns, ...(init.userProfile ? { user_profile: init.userProfile } : {}) },
            constraints: { max_tokens: config.VOICE_LLM_MAX_TOKENS, temperature: config.VOICE_LLM_TEMPERATURE, timeout_ms: config.VOICE_LLM_TIMEOUT_MS },
            owner_instance: deps.instanceId,
          }),
        speak: async (sentence) => {
          await deps.tts.send({
            request_id: sentence.requestId,
            trace_id: sentence.traceId,
            text: sentence.text,
            session_id: this.sessionId,
            target_room: room,
            owner_instance: deps.instanceId,
            ...(config.VOICE_TTS_VOICE ? { voice_id: config.VOICE_TTS_VOICE } : {}),
          });
        },
        cancelSpeech: (traceId, reason) => bus.publish('agent.tts.cancel', { trace_id: traceId, target_room: room, session_id: this.sessionId, reason }),
        cancelThinking: (requestId, traceId, reason) => bus.publish('agent.brain.cancel', { request_id: requestId, trace_id: traceId, session_id: this.sessionId, reason }),
        reportError: (errorType, message, requestId) => this.voiceError(errorType, message, requestId),
        isNoWorker: (error) => error instanceof NoWorkerError,
        noticeBusy: (traceId) => deps.noticeBusy(traceId),
      },
    });
  }

  /** the turn controller: brain and TTS events for this session go to it */
  get controller(): TurnController {
    return this.turns;
  }

  /** the user's audio has reached this session within `withinMs` */
  hearsAudio(withinMs: number, now = Date.now()): boolean {
    return this.lastAudioAt !== undefined && now - this.lastAudioAt <= withinMs;
  }

  get voiceToVoiceSamples(): readonly number[] {
    return this.turns.voiceToVoiceSamples;
  }

  async start(): Promise<void> {
    const { config, bus, logger } = this.deps;
    bus.publish('agent.voice.session.started', {
      event: 'session_started',
      trace_id: this.init.traceId,
      user_id: this.init.userIdentity,
      session_id: this.sessionId,
      room_name: this.init.roomName,
      ...(this.init.roomSid ? { room_sid: this.init.roomSid } : {}),
      participant_sid: this.init.participantSid,
      agent_id: this.deps.service,
      instance_id: this.deps.instanceId,
      track_sid: this.init.trackSid,
      timestamp: this.startedIso,
    });
    this.listener = await RoomListener.join(
      {
        livekit: { url: config.LIVEKIT_URL, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET },
        identity: `${config.VOICE_IDENTITY}-${this.deps.instanceId}`,
        roomName: this.init.roomName,
        userIdentity: this.init.userIdentity,
        trackSid: this.init.trackSid,
        sampleRate: SAMPLE_RATE,
        logger,
      },
      {
        onAudio: (frame) => this.onAudio(frame),
        onUserLeft: (nodeLost) => void this.end(nodeLost ? 'livekit_node_lost' : 'user_left'),
        onDisconnected: (roomClosed) => void this.end(roomClosed ? 'room_finished' : 'room_disconnected'),
      },
    );
    if (this.ended) return this.listener.close(); // ended while joining
    logger.info({ room: this.init.roomName, session_id: this.sessionId, user: this.init.userIdentity }, 'session started');
    // The TTS worker joins now, while the user speaks, so the first answer does not wait for it.
    this.deps.tts
      .send({ request_id: newRequestId('prepare'), trace_id: this.init.traceId, text: '-', session_id: this.sessionId, target_room: this.init.roomName, owner_instance: this.deps.instanceId, prepare: true })
      .catch((error: Error) => logger.warn({ room: this.init.roomName, err: error.message }, 'no TTS worker took the room yet'));
  }

  private async onAudio(frame: Int16Array): Promise<void> {
    if (this.ended) return;
    this.lastAudioAt = Date.now();
    this.audio.push(frame);
    const events = this.cutter.next(await this.vad.push(frame), this.audio.end);
    for (const event of events) this.onUtteranceEvent(event);
    const quiet = this.quietEnd;
    if (quiet && this.audio.end >= quiet.atSample) {
      this.quietEnd = undefined;
      for (const event of this.cutter.endTurn(quiet.token, quiet.endSample)) this.onUtteranceEvent(event);
    }
    this.audio.dropBefore(this.cutter.keepFrom(this.audio.end));
  }

  private onUtteranceEvent(event: UtteranceEvent): void {
    if (event.type === 'speech-start') {
      this.early = undefined;
      return this.turns.speechStarted();
    }
    if (event.type === 'speech-end') return this.turns.speechEnded();
    if (event.type === 'onset') return this.turns.speechOnset(event.soundMs, event.cue);
    if (event.type === 'onset-dropped') return this.turns.onsetFaded();
    const { config } = this.deps;
    // smart-turn: transcribed at the gap before the pause, the words are due when the pause is judged
    if (event.type === 'gap') return this.transcribeEarly(event.startSample, event.endSample, config.VOICE_TURN_PAUSE_MS - config.VOICE_TURN_STT_MS);
    if (event.type === 'pause') {
      if (!this.earlyTranscript(event.startSample, event.endSample)) {
        this.transcribeEarly(event.startSample, event.endSample, this.deps.turnDetector ? 0 : config.VOICE_EOU_SILENCE_MS - config.VOICE_EARLY_STT_MS);
      }
      if (this.deps.turnDetector) this.judgePause(event.startSample, event.endSample);
      return;
    }
    if (event.cut) this.deps.logger.warn({ room: this.init.roomName, max_turn_ms: this.deps.config.VOICE_MAX_TURN_MS }, 'turn cut at the maximum length');
    // Wall clock of the end of speech: a VAD speech-end fires only after the end-of-utterance silence.
    const speechEndAt = Date.now() - this.audio.toMs(this.audio.end - event.endSample);
    this.transcribe(event.startSample, event.endSample, speechEndAt);
  }

  /** The early transcription of this audio, if one is in progress. */
  private earlyTranscript(startSample: number, endSample: number): Promise<Transcript> | undefined {
    return this.early?.startSample === startSample && this.early.endSample === endSample ? this.early.transcript : undefined;
  }

  /**
   * The user paused (or, in smart-turn mode, fell quiet for a moment): transcribe what was said
   * so far, due in `dueInMs` — in vad mode when the end-of-utterance silence would be over, in
   * smart-turn mode when the pause is judged. If the pause ends the utterance, its transcript is
   * ready or nearly so; if the user goes on, it is dropped. Either way it is published as an
   * interim transcript.
   */
  private transcribeEarly(startSample: number, endSample: number, dueInMs: number): void {
    if (endSample - startSample < MIN_UTTERANCE_SAMPLES) return;
    const transcript = this.deps.stt.transcribe(int16ToFloat32(this.audio.slice(startSample, endSample)), { dueInMs });
    transcript.then(
      (result) => this.publishInterim(result),
      () => {}, // a failure is reported where the transcript is used
    );
    this.early = { startSample, endSample, transcript };
  }

  private publishInterim(result: Transcript): void {
    const text = result.text.trim();
    if (this.ended || !text) return;
    this.deps.bus.publish('agent.voice.transcript.interim', {
      trace_id: this.init.traceId,
      session_id: this.sessionId,
      room_name: this.init.roomName,
      user_id: this.init.userIdentity,
      text: text.slice(0, 20_000),
      audio_ms: Math.round(result.audioMs),
    });
  }

  /**
   * Smart turn: is this pause the end of the turn? The model hears the turn so far (its last
   * 8 s) and the early transcript says how it reads (turn-policy.ts). Over → the utterance ends
   * here, without waiting for the VAD's maximum silence; not over → keep listening (the next
   * pause is judged again). If the user speaks before the judgment is back, it no longer applies.
   */
  private judgePause(startSample: number, endSample: number): void {
    const detector = this.deps.turnDetector!;
    const token = this.cutter.pauseToken;
    // The model hears the silence so far too, as it was trained to.
    const audio = int16ToFloat32(this.audio.slice(startSample, this.audio.end));
    const askedAt = performance.now();
    const early = this.earlyTranscript(startSample, endSample);
    Promise.all([detector.completeProbability(audio), early?.then((t) => t.text) ?? '']).then(
      ([probability, transcript]) => {
        if (this.ended) return;
        const { config } = this.deps;
        // A backchannel over the agent, which waits stopped, is over at once: the agent goes on.
        const judged = this.turns.suspended && this.backchannel(transcript) ? 'over' : pauseVerdict({ probability, transcript }, config.VOICE_TURN_THRESHOLD);
        // a quiet end no sooner than the maximum silence is the maximum silence
        const verdict = judged === 'over-if-quiet' && config.VOICE_TURN_TEXT_SILENCE_MS >= config.VOICE_TURN_MAX_SILENCE_MS ? 'not-over' : judged;
        this.turnJudgments[verdict]++;
        this.deps.logger.info(
          { room: this.init.roomName, probability: Math.round(probability * 1000) / 1000, transcript, verdict, judge_ms: Math.round(performance.now() - askedAt) },
          VERDICT_LOGS[verdict],
        );
        if (verdict === 'over') for (const event of this.cutter.endTurn(token, endSample)) this.onUtteranceEvent(event);
        else if (verdict === 'over-if-quiet') this.quietEnd = { token, endSample, atSample: endSample + this.audio.toSamples(config.VOICE_TURN_TEXT_SILENCE_MS) };
      },
      (error: Error) => {
        // The VAD's maximum silence still ends the turn.
        this.turnJudgments.failed++;
        this.deps.logger.warn({ room: this.init.roomName, err: error.message }, 'end-of-turn judgment failed');
      },
    );
  }

  /** Transcriptions run one after another, so turns start in the order they were spoken. */
  private transcribe(startSample: number, endSample: number, speechEndAt: number): void {
    const ready = this.earlyTranscript(startSample, endSample);
    this.early = undefined;
    const audio = ready ? undefined : this.audio.slice(startSample, endSample);
    this.sttChain = this.sttChain
      .then(async () => {
        if (this.ended) return;
        if (endSample - startSample < MIN_UTTERANCE_SAMPLES) return this.turns.transcript('', speechEndAt);
        const result = await (ready ?? this.deps.stt.transcribe(int16ToFloat32(audio!)));
        this.deps.logger.info({ room: this.init.roomName, text: result.text.trim(), audio_ms: Math.round(result.audioMs) }, 'user turn transcribed');
        if (!this.ended) this.turns.transcript(result.text, speechEndAt);
      })
      .catch((error: Error) => {
        this.deps.logger.error({ err: error }, 'transcription failed');
        this.voiceError('stt_failed', error.message);
      });
  }

  private voiceError(errorType: VoiceErrorType, message: string, requestId?: string): void {
    this.deps.bus.publish('agent.voice.error', {
      error_type: errorType,
      error_message: message.slice(0, 4096),
      session_id: this.sessionId,
      room_name: this.init.roomName,
      instance_id: this.deps.instanceId,
      ...(requestId ? { request_id: requestId } : {}),
    });
  }

  async end(reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.turns.end(reason);
    this.vad.close();
    this.deps.tts.release(this.init.roomName);
    const sorted = [...this.turns.voiceToVoiceSamples].sort((a, b) => a - b);
    const pick = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    this.deps.bus.publish('agent.voice.session.ended', {
      event: 'session_ended',
      trace_id: this.init.traceId,
      user_id: this.init.userIdentity,
      session_id: this.sessionId,
      room_name: this.init.roomName,
      duration_seconds: Math.round((Date.now() - this.startedAt) / 100) / 10,
      total_turns: this.turns.turns,
      reason,
      final_status: 'completed',
      ...(sorted.length ? { voice_to_voice_ms: { count: sorted.length, p50: pick(0.5), p90: pick(0.9), max: Math.round(sorted.at(-1)!) } } : {}),
    });
    this.deps.logger.info({ room: this.init.roomName, session_id: this.sessionId, reason, turns: this.turns.turns }, 'session ended');
    this.audio.clear();
    this.deps.onEnded(this, reason);
    await this.listener?.close();
  }
}
