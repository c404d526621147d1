/**
 * One conversation: a user in a LiveKit room. The session joins the room as a hidden listening
 * agent, reads the user's microphone at 16 kHz, cuts turns with VAD, transcribes them, asks the
 * brain, and turns the brain's sentences into TTS requests for the room, in order. Barge-in —
 * the user speaking while the agent talks — is one event: it cancels playback, stops routing
 * the old answer and records it as cut off.
 */
import { AudioStream, Room, RoomEvent, TrackKind, type AudioFrame, type RemoteTrack } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import type { Bus } from '@arc/bus';
import { newRequestId, newTraceId, type BrainError, type BrainPartial, type BrainResponse, type PreviousTurn, type TtsCompleted } from '@arc/contracts';
import type { Logger } from '@arc/runtime';
import { int16ToFloat32, type MoonshineStt, type SileroVad, type VadEvent, type VadStream } from '@arc/speech';
import { NoTtsWorkerError, type TtsRoomRouter } from '@arc/tts';
import type { VoiceConfig } from './config.js';

const SAMPLE_RATE = 16_000;

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
  config: VoiceConfig;
  logger: Logger;
  vad: SileroVad;
  stt: MoonshineStt;
  router: TtsRoomRouter;
  instanceId: string;
  service: string;
  /** called once, with the reason the session ended */
  onEnded: (session: VoiceSession, reason: string) => void;
}

interface Turn {
  index: number;
  requestId: string;
  traceId: string;
  userText: string;
  /** wall clock (ms) when the user stopped speaking */
  speechEndAt: number;
  nextSequence: number;
  partials: Map<number, string>;
  spoken: string[];
  ttsSentAt: Map<string, number>;
  ttsPending: Set<string>;
  answered: boolean;
  finished: boolean;
  history: PreviousTurn;
  timer: NodeJS.Timeout | undefined;
  voiceToVoiceMs?: number;
}

export class VoiceSession {
  readonly sessionId = `session-${newRequestId('v').slice(2, 14)}`;
  readonly startedAt = Date.now();
  private readonly room = new Room();
  private vadStream: VadStream | undefined;
  private readonly history: PreviousTurn[] = [];
  private current: Turn | undefined;
  private turnCount = 0;
  private readonly voiceToVoice: number[] = [];
  /** 16 kHz audio since the stream started, trimmed to what a turn may still need */
  private chunks: { startSample: number; data: Int16Array }[] = [];
  private samples = 0;
  private speechStartSample: number | undefined;
  private cutEarly = false;
  private sttChain: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(
    readonly init: SessionInit,
    private readonly deps: SessionDeps,
  ) {}

  get voiceToVoiceSamples(): readonly number[] {
    return this.voiceToVoice;
  }

  /** request ids this session is waiting on (brain turn and TTS sentences) */
  ownsRequest(requestId: string): boolean {
    const turn = this.current;
    return turn !== undefined && (requestId === turn.requestId || turn.ttsSentAt.has(requestId));
  }

  async start(): Promise<void> {
    const { config, bus } = this.deps;
    bus.publish('agent.voice.session.started', {
      event: 'session_started',
      trace_id: this.init.traceId,
      user_id: this.init.userIdentity,
      session_id: this.sessionId,
      room_name: this.init.roomName,
      ...(this.init.roomSid ? { room_sid: this.init.roomSid } : {}),
      participant_sid: this.init.participantSid,
      agent_id: this.deps.service,
    });
    const token = new AccessToken(config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET, {
      identity: `${config.VOICE_IDENTITY}-${this.deps.instanceId}`.slice(0, 128),
      ttl: '24h',
    });
    token.kind = 'agent';
    token.addGrant({ roomJoin: true, room: this.init.roomName, hidden: true, canSubscribe: true, canPublish: false, canPublishData: false });
    this.room.on(RoomEvent.TrackSubscribed, (track, publication, participant) => {
      if (participant.identity === this.init.userIdentity && track.kind === TrackKind.KIND_AUDIO && publication.sid === this.init.trackSid) {
        void this.listen(track);
      }
    });
    this.room.on(RoomEvent.ParticipantDisconnected, (participant) => {
      if (participant.identity === this.init.userIdentity) void this.end('user_left');
    });
    this.room.on(RoomEvent.Disconnected, () => void this.end('room_disconnected'));
    await this.room.connect(config.LIVEKIT_URL, await token.toJwt(), { autoSubscribe: true, dynacast: false });
    this.deps.logger.info({ room: this.init.roomName, session_id: this.sessionId, user: this.init.userIdentity }, 'session started');
  }

  private async listen(track: RemoteTrack): Promise<void> {
    const { config } = this.deps;
    this.vadStream = this.deps.vad.stream({
      threshold: config.VOICE_VAD_THRESHOLD,
      minSpeechMs: config.VOICE_MIN_SPEECH_MS,
      minSilenceMs: config.VOICE_EOU_SILENCE_MS,
      speechPadMs: 30,
    });
    const stream = new AudioStream(track, SAMPLE_RATE, 1);
    this.deps.logger.info({ room: this.init.roomName, track_sid: this.init.trackSid }, 'listening to the user');
    try {
      for await (const frame of stream as unknown as AsyncIterable<AudioFrame>) {
        if (this.ended) break;
        await this.onAudio(new Int16Array(frame.data));
      }
    } catch (error) {
      if (!this.ended) this.deps.logger.warn({ err: error, room: this.init.roomName }, 'audio stream failed');
    }
  }

  private async onAudio(data: Int16Array): Promise<void> {
    this.chunks.push({ startSample: this.samples, data });
    this.samples += data.length;
    const events = await this.vadStream!.push(data);
    for (const event of events) this.onVad(event);
    const { config } = this.deps;
    if (this.speechStartSample !== undefined && !this.cutEarly && this.samples - this.speechStartSample > (config.VOICE_MAX_TURN_MS * SAMPLE_RATE) / 1000) {
      // Continuous speech past the limit: take what we have as a turn.
      this.cutEarly = true;
      this.deps.logger.warn({ room: this.init.roomName, max_turn_ms: config.VOICE_MAX_TURN_MS }, 'turn cut at the maximum length');
      this.transcribe(this.speechStartSample, this.samples, Date.now());
    }
    this.trimAudio();
  }

  private onVad(event: VadEvent): void {
    const toSample = (ms: number) => Math.round((ms * SAMPLE_RATE) / 1000);
    if (event.type === 'speech-start') {
      this.speechStartSample = toSample(event.startMs);
      this.cutEarly = false;
      this.bargeIn();
      return;
    }
    const endSample = toSample(event.endMs);
    // Wall clock of the end of speech: this event fires after the end-of-utterance silence.
    const speechEndAt = Date.now() - ((this.samples - endSample) * 1000) / SAMPLE_RATE;
    if (!this.cutEarly) this.transcribe(toSample(event.startMs), endSample, speechEndAt);
    this.speechStartSample = undefined;
    this.cutEarly = false;
  }

  /** The user spoke (at least VOICE_MIN_SPEECH_MS) over the agent: stop it, keep what was said. */
  private bargeIn(): void {
    const turn = this.current;
    if (!turn || turn.finished || turn.ttsPending.size === 0) {
      if (turn && !turn.finished) this.finish(turn); // a new turn supersedes one still thinking
      return;
    }
    this.deps.logger.info({ room: this.init.roomName, request_id: turn.requestId }, 'barge-in: cancelling agent speech');
    this.deps.bus.publish('agent.tts.cancel', { trace_id: turn.traceId, target_room: this.init.roomName, session_id: this.sessionId, reason: 'barge_in' });
    turn.history.interrupted = true;
    turn.history.agent = turn.spoken.join(' ');
    turn.ttsPending.clear();
    this.finish(turn);
  }

  private transcribe(startSample: number, endSample: number, speechEndAt: number): void {
    const audio = this.slice(startSample, endSample);
    this.sttChain = this.sttChain.then(async () => {
      if (this.ended || audio.length < SAMPLE_RATE * 0.1) return;
      const result = await this.deps.stt.transcribe(int16ToFloat32(audio));
      const text = result.text.trim();
      this.deps.logger.info({ room: this.init.roomName, text, audio_ms: Math.round(result.audioMs) }, 'user turn transcribed');
      if (text) this.startTurn(text, speechEndAt);
    }).catch((error: Error) => {
      this.deps.logger.error({ err: error }, 'transcription failed');
      this.voiceError('stt_failed', error.message);
    });
  }

  private startTurn(userText: string, speechEndAt: number): void {
    const { bus, config } = this.deps;
    if (this.current && !this.current.finished) this.finish(this.current);
    const history: PreviousTurn = { user: userText, agent: '' };
    const turn: Turn = {
      index: this.turnCount++,
      requestId: newRequestId('req'),
      traceId: newTraceId(),
      userText,
      speechEndAt,
      nextSequence: 0,
      partials: new Map(),
      spoken: [],
      ttsSentAt: new Map(),
      ttsPending: new Set(),
      answered: false,
      finished: false,
      history,
      timer: undefined,
    };
    this.current = turn;
    const previous = config.VOICE_MAX_PREVIOUS_TURNS > 0 ? this.history.slice(-config.VOICE_MAX_PREVIOUS_TURNS) : [];
    bus.publish('agent.brain.request', {
      request_id: turn.requestId,
      trace_id: turn.traceId,
      user_id: this.init.userIdentity,
      session_id: this.sessionId,
      conversation_id: this.sessionId,
      turn_index: turn.index,
      user_input: userText.slice(0, 20_000),
      context: {
        previous_turns: previous.map((t) => ({ ...t })),
        ...(this.init.userProfile ? { user_profile: this.init.userProfile } : {}),
      },
      constraints: { max_tokens: config.VOICE_LLM_MAX_TOKENS, temperature: config.VOICE_LLM_TEMPERATURE, timeout_ms: config.VOICE_LLM_TIMEOUT_MS },
    });
    this.history.push(history);
    turn.timer = setTimeout(() => {
      if (turn.answered || turn.finished || this.current !== turn) return;
      this.deps.logger.warn({ request_id: turn.requestId, timeout_ms: config.VOICE_BRAIN_TIMEOUT_MS }, 'no brain answer in time; speaking the fallback');
      this.voiceError('brain_timeout', `no brain answer within ${config.VOICE_BRAIN_TIMEOUT_MS} ms; spoke the fallback`, turn.requestId);
      turn.answered = true;
      history.agent = config.VOICE_FALLBACK_RESPONSE;
      this.say(turn, config.VOICE_FALLBACK_RESPONSE);
    }, config.VOICE_BRAIN_TIMEOUT_MS);
    turn.timer.unref();
  }

  onPartial(partial: BrainPartial): void {
    const turn = this.current;
    if (!turn || turn.finished || partial.request_id !== turn.requestId || turn.answered) return;
    turn.partials.set(partial.sequence, partial.text);
    // Sentences may cross the bus out of order; speak them in sequence.
    while (turn.partials.has(turn.nextSequence)) {
      const text = turn.partials.get(turn.nextSequence)!;
      turn.partials.delete(turn.nextSequence++);
      this.say(turn, text);
    }
  }

  onResponse(response: BrainResponse): void {
    const turn = this.current;
    if (!turn || turn.finished || response.request_id !== turn.requestId || turn.answered) return;
    turn.answered = true;
    clearTimeout(turn.timer);
    turn.history.agent = response.agent_response;
    if (turn.spoken.length === 0 && response.agent_response.trim()) this.say(turn, response.agent_response);
    if (turn.ttsPending.size === 0) this.finish(turn);
  }

  onBrainError(error: BrainError): void {
    const turn = this.current;
    if (!turn || turn.finished || error.request_id !== turn.requestId || turn.answered) return;
    turn.answered = true;
    clearTimeout(turn.timer);
    turn.history.agent = error.fallback_response;
    this.say(turn, error.fallback_response);
  }

  onTtsCompleted(completed: TtsCompleted): void {
    const turn = this.current;
    if (!turn || !turn.ttsSentAt.has(completed.request_id)) return;
    const sentAt = turn.ttsSentAt.get(completed.request_id)!;
    if (turn.voiceToVoiceMs === undefined && completed.time_to_first_audio_ms !== undefined && completed.status !== 'cancelled') {
      turn.voiceToVoiceMs = Math.max(0, sentAt + completed.time_to_first_audio_ms - turn.speechEndAt);
      this.voiceToVoice.push(turn.voiceToVoiceMs);
      this.deps.logger.info({ request_id: turn.requestId, voice_to_voice_ms: Math.round(turn.voiceToVoiceMs) }, 'voice-to-voice latency');
    }
    turn.ttsPending.delete(completed.request_id);
    if (turn.answered && turn.ttsPending.size === 0) this.finish(turn);
  }

  onTtsError(requestId: string): void {
    const turn = this.current;
    if (!turn) return;
    turn.ttsPending.delete(requestId);
    if (turn.answered && turn.ttsPending.size === 0) this.finish(turn);
  }

  private say(turn: Turn, text: string): void {
    const { config } = this.deps;
    const requestId = `${turn.requestId}-s${turn.ttsSentAt.size}`;
    turn.spoken.push(text);
    turn.ttsSentAt.set(requestId, Date.now());
    turn.ttsPending.add(requestId);
    this.deps.router
      .send({
        request_id: requestId,
        trace_id: turn.traceId,
        text,
        session_id: this.sessionId,
        target_room: this.init.roomName,
        ...(config.VOICE_TTS_VOICE ? { voice_id: config.VOICE_TTS_VOICE } : {}),
      })
      .catch((error: Error) => {
        turn.ttsPending.delete(requestId);
        this.voiceError(error instanceof NoTtsWorkerError ? 'no_tts_worker' : 'tts_request_failed', error.message, turn.requestId);
      });
  }

  private finish(turn: Turn): void {
    turn.finished = true;
    clearTimeout(turn.timer);
  }

  private voiceError(errorType: string, message: string, requestId?: string): void {
    this.deps.bus.publish('agent.voice.error', {
      error_type: errorType,
      error_message: message.slice(0, 4096),
      session_id: this.sessionId,
      room_name: this.init.roomName,
      instance_id: this.deps.instanceId,
      ...(requestId ? { request_id: requestId } : {}),
    });
  }

  private slice(startSample: number, endSample: number): Int16Array {
    const out = new Int16Array(Math.max(0, endSample - startSample));
    for (const chunk of this.chunks) {
      const from = Math.max(startSample, chunk.startSample);
      const to = Math.min(endSample, chunk.startSample + chunk.data.length);
      if (to > from) out.set(chunk.data.subarray(from - chunk.startSample, to - chunk.startSample), from - startSample);
    }
    return out;
  }

  /** Keep one second before the current speech (or now), enough for VAD padding. */
  private trimAudio(): void {
    const keepFrom = (this.speechStartSample ?? this.samples) - SAMPLE_RATE;
    while (this.chunks.length > 0 && this.chunks[0]!.startSample + this.chunks[0]!.data.length < keepFrom) this.chunks.shift();
  }

  async end(reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const turn = this.current;
    if (turn && !turn.finished) {
      if (turn.ttsPending.size > 0) this.deps.bus.publish('agent.tts.cancel', { trace_id: turn.traceId, target_room: this.init.roomName, reason });
      this.finish(turn);
    }
    this.deps.router.release(this.init.roomName);
    const sorted = [...this.voiceToVoice].sort((a, b) => a - b);
    const pick = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    this.deps.bus.publish('agent.voice.session.ended', {
      event: 'session_ended',
      trace_id: this.init.traceId,
      user_id: this.init.userIdentity,
      session_id: this.sessionId,
      room_name: this.init.roomName,
      duration_seconds: Math.round((Date.now() - this.startedAt) / 100) / 10,
      total_turns: this.turnCount,
      reason,
      final_status: 'completed',
      ...(sorted.length ? { voice_to_voice_ms: { count: sorted.length, p50: pick(0.5), p90: pick(0.9), max: Math.round(sorted.at(-1)!) } } : {}),
    });
    this.deps.logger.info({ room: this.init.roomName, session_id: this.sessionId, reason, turns: this.turnCount }, 'session ended');
    this.chunks = [];
    this.deps.onEnded(this, reason);
    await this.room.disconnect().catch(() => {});
  }
}
