/**
 * Serves agent.tts.request: speaks text into LiveKit rooms with loaded voices, one agent
 * participant and one track per room, sentence by sentence. The first request of a room comes
 * through the queue group and is acknowledged with this worker's subject (room affinity, see
 * StickyRouter in @arc/bus); later ones arrive there directly. agent.tts.cancel stops what a room
 * is playing (barge-in). Rooms idle for TTS_IDLE_TIMEOUT_MS are left.
 *
 * A worker holding TTS_MAX_ROOMS rooms leaves the queue group, so new rooms go to another worker
 * (its own rooms still reach it directly). agent.tts.notice — a short notice such as "all our
 * agents are busy" — is spoken even then: the room is joined for it and left after.
 */
import { RoomServiceClient } from 'livekit-server-sdk';
import { workerSubject, type TtsCancel, type TtsErrorType, type TtsNotice, type TtsRequest } from '@arc/contracts';
import { Admission, type Bus, type BusSubscription, type MessageMeta } from '@arc/bus';
import { observeStage, type Logger, type WorkerContext } from '@arc/runtime';
import { piperVoiceId, type TtsEngine } from '@arc/speech';
import { RoomSpeaker } from './room-speaker.js';

export interface TtsServiceOptions {
  bus: Bus;
  logger: Logger;
  instanceId: string;
  /** loaded voices by model id; the first is the default */
  voices: ReadonlyMap<string, TtsEngine>;
  livekit: { url: string; apiKey: string; apiSecret: string };
  /** participant identity prefix of the speaking agent */
  identity: string;
  queueGroup: string;
  /** rooms held at most before leaving the queue group */
  maxRooms: number;
  sampleRate: number;
  idleTimeoutMs: number;
  /** a new room's first audio waits this long at most for a subscriber to the agent track */
  listenerWaitMs: number;
  maxTextChars: number;
  reportError: WorkerContext<unknown>['reportError'];
}

/** Why a request was not spoken, as agent.tts.error reports it. */
export class TtsRequestError extends Error {
  override readonly name = 'TtsRequestError';
  constructor(
    readonly errorType: TtsErrorType,
    message: string,
  ) {
    super(message);
  }
}

export class TtsService {
  readonly workerSubject;
  private readonly rooms = new Map<string, RoomSpeaker>();
  private readonly joining = new Map<string, Promise<RoomSpeaker>>();
  private readonly roomService: RoomServiceClient;
  private readonly subscriptions: BusSubscription[] = [];
  /** in the queue group of agent.tts.request while this worker takes new rooms */
  private readonly admission: Admission<'agent.tts.request'>;
  /** rooms joined only to speak a notice: left once it has played */
  private readonly noticeOnly = new Set<string>();
  private readonly defaultVoice: string;
  private idleTimer: NodeJS.Timeout | undefined;
  private latencyExceeded = 0;

  constructor(private readonly options: TtsServiceOptions) {
    this.workerSubject = workerSubject('agent.tts.request', options.instanceId);
    this.roomService = new RoomServiceClient(options.livekit.url.replace(/^ws/, 'http'), options.livekit.apiKey, options.livekit.apiSecret);
    this.defaultVoice = [...options.voices.keys()][0]!;
    this.admission = new Admission(options.bus, {
      subject: 'agent.tts.request',
      queue: options.queueGroup,
      handler: (request, meta) => this.handle(request, meta),
      isFull: () => this.fullness >= 1,
      onChange: (admitting) => {
        if (!admitting) options.logger.info({ rooms: this.rooms.size }, 'at the maximum of rooms: taking no new room');
      },
    });
  }

  async start(): Promise<void> {
    const { bus, queueGroup, idleTimeoutMs } = this.options;
    this.subscriptions.push(
      bus.subscribe(this.workerSubject, (request, meta) => this.handle(request, meta)),
      bus.subscribe('agent.tts.cancel', (cancel) => this.cancel(cancel)),
      bus.subscribe('agent.tts.notice', (notice) => this.notice(notice), { queue: queueGroup }),
    );
    await this.admission.update();
    await bus.flush();
    this.idleTimer = setInterval(() => this.leaveIdleRooms(), Math.min(5_000, idleTimeoutMs / 2));
    this.idleTimer.unref();
  }

  get activeRooms(): number {
    return this.rooms.size;
  }

  /** rooms held against TTS_MAX_ROOMS (0–1); rooms joined only for a notice do not count */
  get fullness(): number {
    return Math.min(1, (this.rooms.size + this.joining.size - this.noticeOnly.size) / this.options.maxRooms);
  }

  metrics(): { tts_latency_exceeded: number } {
    return { tts_latency_exceeded: this.latencyExceeded };
  }

  async stop(): Promise<void> {
    clearInterval(this.idleTimer);
    await Promise.allSettled([this.admission.close(), ...this.subscriptions.map((sub) => sub.unsubscribe())]);
    await Promise.all([...this.rooms.values()].map((speaker) => speaker.close('shutdown')));
  }

  private async handle(request: TtsRequest, meta: MessageMeta): Promise<void> {
    this.noticeOnly.delete(request.target_room); // asked for in earnest: the room is held
    try {
      await this.speak(request, meta);
    } catch (error) {
      if (error instanceof TtsRequestError) return this.fail(request, error.errorType, error.message);
      this.options.reportError('synthesis_failed', `request ${request.request_id}: ${(error as Error).message}`, 'error', { trace_id: request.trace_id });
      this.fail(request, 'synthesis_failed', (error as Error).message);
    }
  }

  private async speak(request: TtsRequest, meta: MessageMeta): Promise<void> {
    const { voices, maxTextChars, instanceId, bus, logger } = this.options;
    const receivedAt = performance.now() - Math.max(0, meta.hopLatencyMs);
    // Reply first (affinity): the sender routes the room's later sentences to this worker.
    meta.respond?.({ request_id: request.request_id, instance_id: instanceId, target_room: request.target_room, worker_subject: this.workerSubject });
    // Voice ids are model ids (`piper-en_US-joe-medium`); Piper's own names (`en_US-joe-medium`) work too.
    const voice = voices.get(piperVoiceId(request.voice_id ?? this.defaultVoice));
    if (!voice) throw new TtsRequestError('unknown_voice', `voice "${request.voice_id}" is not loaded; available: ${[...voices.keys()].join(', ')}`);
    if (request.text.length > maxTextChars) {
      throw new TtsRequestError('text_too_long', `text has ${request.text.length} characters, over TTS_MAX_TEXT_CHARS=${maxTextChars}`);
    }
    const speaker = await this.speakerFor(request.target_room, request.constraints?.sample_rate ?? this.options.sampleRate);
    if (request.prepare) return; // in the room with the track published: the first answer pays no join
    const outcome = await speaker.speak({ requestId: request.request_id, text: request.text, voice, receivedAt });
    if (outcome.status === 'completed' && outcome.durationMs === 0) {
      throw new TtsRequestError('nothing_to_say', 'the text has nothing speakable (only punctuation or symbols)');
    }
    const maxLatency = request.constraints?.max_latency_ms;
    if (maxLatency !== undefined && outcome.firstAudioMs !== undefined && outcome.firstAudioMs > maxLatency) {
      this.latencyExceeded++;
      logger.warn({ request_id: request.request_id, first_audio_ms: Math.round(outcome.firstAudioMs), max_latency_ms: maxLatency }, 'max_latency_ms exceeded');
    }
    const sentence = { 'arc.request_id': request.request_id, 'tts.voice': request.voice_id ?? 'default', 'tts.status': outcome.status };
    observeStage('tts_synthesis', outcome.synthesisMs, request.trace_id, { attributes: sentence });
    if (outcome.firstAudioMs !== undefined) observeStage('tts_first_audio', outcome.firstAudioMs, request.trace_id, { attributes: sentence });
    observeStage('tts_playout', performance.now() - receivedAt, request.trace_id, { attributes: { ...sentence, 'tts.duration_ms': Math.round(outcome.durationMs) } });
    // "completed" once the audio has played out (the speaker resolves then), not merely been handed to LiveKit.
    bus.publish('agent.tts.completed', {
        trace_id: request.trace_id,
        request_id: request.request_id,
        session_id: request.session_id,
        target_room: request.target_room,
        instance_id: instanceId,
        audio_track_sid: speaker.audioTrackSid,
        duration_ms: Math.round(outcome.durationMs),
        synthesis_latency_ms: Math.round(outcome.synthesisMs),
        ...(outcome.firstAudioMs === undefined ? {} : { time_to_first_audio_ms: Math.round(outcome.firstAudioMs) }),
        audio_format: 'pcm',
        ready_for_playback: outcome.status === 'completed',
        status: outcome.status,
        ...(outcome.playedMs === undefined ? {} : { played_ms: Math.round(outcome.playedMs) }),
        ...(outcome.heardText === undefined ? {} : { heard_text: outcome.heardText.slice(0, 20_000) }),
      }, { owner: request.owner_instance });
  }

  /** A short notice, spoken even at the maximum of rooms; a room joined only for it is left once it has played. */
  private async notice(notice: TtsNotice): Promise<void> {
    const room = notice.target_room;
    if (!this.rooms.has(room) && !this.joining.has(room)) this.noticeOnly.add(room);
    try {
      await this.speak(notice, { subject: 'agent.tts.notice', hopLatencyMs: 0, sizeBytes: 0 });
    } catch (error) {
      this.fail(notice, error instanceof TtsRequestError ? error.errorType : 'synthesis_failed', (error as Error).message);
    }
    // leave once the notice has played out, unless the room has since been asked for in earnest
    setTimeout(() => {
      const speaker = this.rooms.get(room);
      if (this.noticeOnly.delete(room) && speaker && !speaker.busy) void speaker.close('notice_played');
    }, 3_000).unref();
  }

  /** In the queue group below TTS_MAX_ROOMS, out of it at the maximum. */
  private updateAdmission(): void {
    this.admission.update().catch((error: Error) => this.options.logger.error({ err: error }, 'could not change queue-group membership'));
  }

  private speakerFor(roomName: string, sampleRate: number): Promise<RoomSpeaker> {
    const held = this.rooms.get(roomName);
    if (held) return Promise.resolve(held);
    let pending = this.joining.get(roomName);
    if (!pending) {
      pending = this.join(roomName, sampleRate).finally(() => this.joining.delete(roomName));
      this.joining.set(roomName, pending);
    }
    return pending;
  }

  private async join(roomName: string, sampleRate: number): Promise<RoomSpeaker> {
    const { livekit, identity, instanceId, logger } = this.options;
    // LiveKit creates rooms on join; the agent must not conjure up rooms nobody is in.
    const existing = await this.roomService.listRooms([roomName]).catch((error: Error) => {
      throw new TtsRequestError('livekit_error', `could not ask LiveKit for room "${roomName}": ${error.message}`);
    });
    if (existing.length === 0) throw new TtsRequestError('room_not_found', `room "${roomName}" does not exist`);
    try {
      const speaker = await RoomSpeaker.join({
        livekitUrl: livekit.url,
        apiKey: livekit.apiKey,
        apiSecret: livekit.apiSecret,
        identity: `${identity}-${instanceId}`.slice(0, 128),
        roomName,
        sampleRate,
        listenerWaitMs: this.options.listenerWaitMs,
        logger,
        onClosed: () => {
          this.rooms.delete(roomName);
          this.noticeOnly.delete(roomName);
          this.updateAdmission();
        },
      });
      this.rooms.set(roomName, speaker);
      this.updateAdmission();
      return speaker;
    } catch (error) {
      throw new TtsRequestError('livekit_error', `could not join room "${roomName}": ${(error as Error).message}`);
    }
  }

  private cancel(cancel: TtsCancel): void {
    const targets = cancel.target_room ? [this.rooms.get(cancel.target_room)] : [...this.rooms.values()];
    for (const speaker of targets) {
      const stopped = speaker?.cancel(cancel.request_id) ?? [];
      if (stopped.length > 0) this.options.logger.info({ room: speaker!.roomName, stopped, reason: cancel.reason }, 'cancelled');
    }
  }

  private leaveIdleRooms(): void {
    for (const speaker of this.rooms.values()) {
      if (!speaker.busy && Date.now() - speaker.lastActivity > this.options.idleTimeoutMs) void speaker.close('idle');
    }
  }

  private fail(request: TtsRequest | TtsNotice, errorType: TtsErrorType, message: string): void {
    this.options.logger.warn({ request_id: request.request_id, room: request.target_room, error_type: errorType }, message);
    this.options.bus.publish('agent.tts.error', {
      trace_id: request.trace_id,
      request_id: request.request_id,
      session_id: request.session_id,
      target_room: request.target_room,
      instance_id: this.options.instanceId,
      error_type: errorType,
      error_message: message,
    }, { owner: request.owner_instance });
  }
}
