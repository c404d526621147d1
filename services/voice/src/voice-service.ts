/**
 * The voice worker's sessions.
 *
 * Dispatch over the bus (seed 002's workflow): the worker that receives a LiveKit webhook for a
 * user's microphone publishes agent.voice.track.published as a NATS request; voice workers take
 * it in a queue group, and the one that takes it starts the session and replies. A worker at its
 * maximum (VOICE_MAX_SESSIONS) leaves the queue group, so another takes the room; when all are
 * full nobody answers and the user hears the busy notice at once. agent.voice.track.unpublished
 * reaches every worker; the one whose session listens to that track ends it.
 *
 * Inside, brain and TTS events go to the session whose turn they answer, and microphones nobody
 * listens to (a restart, a lost listener) are found and dispatched again (see reconcile.ts).
 */
import { RoomServiceClient, type ParticipantInfo, type TrackInfo, type WebhookEvent } from 'livekit-server-sdk';
import { newRequestId, newTraceId, ownerSubject, type PublishInput, type SessionStarted, type TrackPublished } from '@arc/contracts';
import { Admission, NoRespondersError, RequestTimeoutError, StickyRouter, type Bus, type BusSubscription, type MessageMeta } from '@arc/bus';
import type { CommonConfig, Logger } from '@arc/runtime';
import type { SttEngine, TurnDetector, VadEngine } from '@arc/speech';
import type { VoiceConfig } from './config.js';
import { ParticipantDirectory, isMicrophone, userProfile } from './participants.js';
import { VoiceInstances, findUnheardMicrophones } from './reconcile.js';
import { VoiceSession } from './voice-session.js';

/** Sessions ended for these reasons are over for good; any other end (a listener disconnected) is healed. */
const FINAL_END_REASONS = new Set(['track_unpublished', 'user_left', 'room_finished', 'shutdown', 'duplicate_session', 'track_replaced']);
/**
 * A session whose user's audio has not arrived for this long gives way to a new microphone track
 * of the same user: the user published again (rejoined after their LiveKit node was lost, or
 * turned the microphone off and on), or the session was started for a track that no longer exists.
 */
const TRACK_SILENT_MS = 2_000;
const MAX_KEPT_SAMPLES = 1000;
/** LiveKit webhook ids remembered, so a retried webhook is not dispatched twice */
const SEEN_WEBHOOKS = 1000;
/**
 * How long another worker's agent.voice.session.started keeps this one from starting a session of
 * the same track: duplicates race within a second; a worker that died holding it is forgotten.
 */
const CLAIM_TTL_MS = 10_000;

interface SessionClaim {
  instanceId: string;
  sessionId: string;
  startedIso: string;
  seenAt: number;
}

/**
 * Of two sessions started for the same track (a webhook delivered to two voice workers, or
 * retried), the one that started first stays; at the same millisecond the smaller instance id.
 */
export function keepsSession(mine: { startedIso: string; instanceId: string }, other: { startedIso: string; instanceId: string }): boolean {
  if (mine.startedIso !== other.startedIso) return mine.startedIso < other.startedIso;
  return mine.instanceId < other.instanceId;
}

export interface VoiceServiceOptions {
  bus: Bus;
  config: CommonConfig & VoiceConfig;
  logger: Logger;
  vad: VadEngine;
  stt: SttEngine;
  /** smart-turn mode: judges whether a pause ends the turn */
  turnDetector?: TurnDetector;
  instanceId: string;
  service: string;
}

export class VoiceService {
  private readonly sessions = new Map<string, VoiceSession>(); // by room: one user per room
  private readonly trackStartedAt = new Map<string, number>();
  private readonly roomQueues = new Map<string, Promise<void>>();
  private readonly subscriptions: BusSubscription[] = [];
  private readonly tts: StickyRouter<'agent.tts.request'>;
  private readonly roomService: RoomServiceClient;
  private readonly directory: ParticipantDirectory;
  private readonly instances: VoiceInstances;
  private readonly listenerPrefix: string;
  private readonly pastVoiceToVoice: number[] = [];
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | undefined;
  /** in the queue group of agent.voice.track.published while this worker takes rooms */
  private readonly admission: Admission<'agent.voice.track.published'>;
  /** tracks whose user has heard the busy notice (so reconciling does not repeat it) */
  private readonly noticed = new Set<string>();
  private stopping = false;
  private readonly seenWebhooks = new Set<string>();
  /** sessions other voice workers started, by track sid (see CLAIM_TTL_MS) */
  private readonly claims = new Map<string, SessionClaim>();
  private counts = { webhooksRejected: 0, webhooksRepeated: 0, duplicateSessions: 0, agentTracksIgnored: 0, busyNotices: 0, turnsEndedAtPause: 0, pausesMidTurn: 0, pausesOverIfQuiet: 0, resumes: 0, soundStopsOff: 0 };

  constructor(private readonly options: VoiceServiceOptions) {
    const { bus, config, instanceId } = options;
    this.tts = new StickyRouter(bus, { subject: 'agent.tts.request', keyOf: (request) => request.target_room });
    this.roomService = new RoomServiceClient(config.LIVEKIT_URL.replace(/^ws/, 'http'), config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET);
    this.listenerPrefix = `${config.VOICE_IDENTITY}-`;
    this.directory = new ParticipantDirectory({
      arcIdentityPrefixes: [this.listenerPrefix, ...config.VOICE_AGENT_IDENTITY_PREFIXES.split(',')],
      lookup: (room, identity) => this.roomService.getParticipant(room, identity).catch(() => undefined),
    });
    this.instances = new VoiceInstances(instanceId, config.HEARTBEAT_INTERVAL_MS);
    this.admission = new Admission(bus, {
      subject: 'agent.voice.track.published',
      queue: config.VOICE_QUEUE_GROUP,
      handler: (event, meta) => this.onDispatched(event, meta),
      isFull: () => this.sessions.size >= config.VOICE_MAX_SESSIONS,
      onChange: (admitting) => {
        if (!admitting && !this.stopping) options.logger.info({ sessions: this.sessions.size }, 'at the maximum of sessions: taking no new room');
      },
    });
  }

  start(): void {
    const { bus, service, instanceId } = this.options;
    const turnsOf = (requestId: string) => [...this.sessions.values()].find((s) => s.controller.owns(requestId))?.controller;
    this.updateAdmission();
    this.subscriptions.push(
      bus.subscribe('agent.voice.track.unpublished', (ended) => {
        const session = this.sessions.get(ended.room_name);
        // A session ends with its own track, never because another participant's track went away.
        if (session?.init.trackSid === ended.track_sid) void session.end('track_unpublished');
      }),
      bus.subscribe('agent.voice.session.started', (started) => this.onSessionStarted(started)),
      bus.subscribe('agent.voice.session.ended', (ended) => this.forgetClaim(ended.session_id)),
      // Targeted replies: the brain and TTS events of this worker's sessions only (see ownerSubject).
      bus.subscribe(ownerSubject('agent.brain.partial', instanceId), (p) => turnsOf(p.request_id)?.brainPartial(p)),
      bus.subscribe(ownerSubject('agent.brain.response', instanceId), (r) => turnsOf(r.request_id)?.brainResponse(r)),
      bus.subscribe(ownerSubject('agent.brain.error', instanceId), (e) => turnsOf(e.request_id)?.brainError(e)),
      bus.subscribe(ownerSubject('agent.tts.completed', instanceId), (c) => turnsOf(c.request_id)?.ttsCompleted(c)),
      bus.subscribe(ownerSubject('agent.tts.error', instanceId), (e) => {
        if (e.request_id) turnsOf(e.request_id)?.ttsFailed(e.request_id);
      }),
      bus.subscribe(
        'system.health.heartbeat',
        (beat) => {
          if (beat.service === service && beat.instance_id) this.instances.beat(beat.instance_id, beat.interval_ms, beat.status === 'stopping');
        },
        { deadLetter: false },
      ),
    );
    void this.reconcile();
    const interval = this.options.config.VOICE_RECONCILE_INTERVAL_MS;
    if (interval > 0) {
      this.reconcileTimer = setInterval(() => void this.reconcile(), interval);
      this.reconcileTimer.unref();
    }
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** sessions held against VOICE_MAX_SESSIONS (0–1) */
  get fullness(): number {
    return Math.min(1, this.sessions.size / this.options.config.VOICE_MAX_SESSIONS);
  }

  webhookRejected(): void {
    this.counts.webhooksRejected++;
  }

  metrics(): Record<string, number> {
    const samples = [...this.pastVoiceToVoice, ...[...this.sessions.values()].flatMap((s) => s.voiceToVoiceSamples)].sort((a, b) => a - b);
    const live = [...this.sessions.values()];
    return {
      webhooks_rejected: this.counts.webhooksRejected,
      webhooks_repeated: this.counts.webhooksRepeated,
      duplicate_sessions_ended: this.counts.duplicateSessions,
      agent_tracks_ignored: this.counts.agentTracksIgnored,
      busy_notices: this.counts.busyNotices,
      // turn-taking, since the worker started
      turns_ended_at_pause: this.counts.turnsEndedAtPause + live.reduce((n, s) => n + s.turnJudgments.over, 0),
      pauses_judged_mid_turn: this.counts.pausesMidTurn + live.reduce((n, s) => n + s.turnJudgments['not-over'], 0),
      // the words read finished, the model heard more coming: the turn ends if the user stays quiet
      pauses_over_if_quiet: this.counts.pausesOverIfQuiet + live.reduce((n, s) => n + s.turnJudgments['over-if-quiet'], 0),
      interruptions_resumed: this.counts.resumes + live.reduce((n, s) => n + s.controller.resumes, 0),
      // sessions where sound alone stopped the agent for nothing again and again (its voice heard back), so only likely speech does
      sessions_sound_stops_off: this.counts.soundStopsOff + live.filter((s) => s.controller.soundStopsOff).length,
      ...(samples.length ? { voice_to_voice_p50_ms: Math.round(samples[Math.floor(samples.length / 2)]!) } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reconcileTimer);
    await this.reconciling;
    await Promise.allSettled([this.admission.close(), ...this.subscriptions.map((sub) => sub.unsubscribe())]);
    await Promise.all([...this.sessions.values()].map((s) => s.end('shutdown')));
  }

  /** A verified LiveKit webhook. One room's events are handled in the order they arrived (a lookup may wait on LiveKit). */
  onWebhook(event: WebhookEvent): void {
    const room = event.room?.name ?? '';
    if (event.id) {
      if (this.seenWebhooks.has(event.id)) {
        this.counts.webhooksRepeated++;
        return void this.options.logger.debug({ id: event.id, event: event.event, room }, 'webhook already handled (a retry)');
      }
      this.seenWebhooks.add(event.id);
      if (this.seenWebhooks.size > SEEN_WEBHOOKS) this.seenWebhooks.delete(this.seenWebhooks.values().next().value!);
    }
    const next = (this.roomQueues.get(room) ?? Promise.resolve())
      .then(() => this.handle(event))
      .catch((error: Error) => this.options.logger.error({ err: error, room, event: event.event }, 'webhook event failed'));
    this.roomQueues.set(room, next);
    void next.finally(() => {
      if (this.roomQueues.get(room) === next) this.roomQueues.delete(room);
    });
  }

  private async handle(event: WebhookEvent): Promise<void> {
    const room = event.room?.name ?? '';
    const { participant, track } = event;
    switch (event.event) {
      case 'participant_joined':
        if (participant) this.directory.remember(room, participant);
        return;
      case 'track_published':
        if (participant && track) await this.onTrackPublished(room, event.room?.sid, participant, track);
        return;
      case 'track_unpublished':
        if (participant && track) await this.onTrackUnpublished(room, participant, track);
        return;
      // The session's own listener sees its user leave and its room close, wherever it runs.
      case 'participant_left':
        if (participant) this.directory.forget(room, participant.identity);
        return;
      case 'room_finished':
        this.directory.forgetRoom(room);
        return;
      default:
        this.options.logger.debug({ event: event.event, room }, 'webhook event ignored');
    }
  }

  private async onTrackPublished(room: string, roomSid: string | undefined, participant: ParticipantInfo, track: TrackInfo): Promise<void> {
    if (!isMicrophone(track)) return;
    if (!(await this.directory.isUser(room, participant.identity))) {
      this.counts.agentTracksIgnored++;
      this.options.logger.debug({ room, participant: participant.identity, track_sid: track.sid }, 'agent track published; not a user session');
      return;
    }
    this.trackStartedAt.set(track.sid, Date.now());
    await this.dispatch(room, roomSid, participant, track.sid);
  }

  /** The user's microphone as agent.voice.track.published, sent as a request: the voice worker that takes it replies. */
  private async dispatch(room: string, roomSid: string | undefined, participant: Pick<ParticipantInfo, 'identity' | 'sid'>, trackSid: string): Promise<void> {
    const { bus, logger } = this.options;
    const metadata = userProfile(this.directory.cached(room, participant.identity));
    const event: PublishInput<'agent.voice.track.published'> = {
      event: 'track_published',
      trace_id: newTraceId(),
      room_name: room,
      ...(roomSid ? { room_sid: roomSid } : {}),
      participant_sid: participant.sid,
      participant_identity: participant.identity,
      track_sid: trackSid,
      track_kind: 'audio',
      track_source: 'microphone',
      ...(metadata ? { metadata } : {}),
    };
    try {
      const { reply } = await bus.request('agent.voice.track.published', event, { timeoutMs: 5_000 });
      logger.debug({ room, taken_by: reply.instance_id, session_id: reply.session_id }, 'session dispatched');
      this.noticed.delete(trackSid);
    } catch (error) {
      if (error instanceof NoRespondersError) return this.allBusy(room, trackSid, event.trace_id!);
      if (error instanceof RequestTimeoutError) return void logger.warn({ room, track_sid: trackSid }, 'no voice worker acknowledged the session in time');
      throw error;
    }
  }

  /** Every voice worker is full: the user hears so at once, not silence (and gets a session once one frees up). */
  private allBusy(room: string, trackSid: string, traceId: string): void {
    const { bus, config, logger, instanceId } = this.options;
    if (this.noticed.has(trackSid)) return;
    this.noticed.add(trackSid);
    this.counts.busyNotices++;
    logger.warn({ room, track_sid: trackSid }, 'every voice worker is at its maximum; telling the user');
    bus.publish('agent.voice.error', { trace_id: traceId, error_type: 'all_workers_busy', error_message: 'every voice worker is at its maximum; the user heard the busy notice', room_name: room, instance_id: instanceId });
    this.sayNotice(room, traceId, config.VOICE_BUSY_MESSAGE, `busy-${trackSid}`);
  }

  /** A short notice spoken by any TTS worker, even a full one (agent.tts.notice). */
  sayNotice(room: string, traceId: string, text: string, sessionId: string): void {
    this.options.bus.publish('agent.tts.notice', { request_id: newRequestId('notice'), trace_id: traceId, text, session_id: sessionId, target_room: room });
  }

  /** This worker takes a dispatched session (it is in the queue group only while it has room). */
  private onDispatched(event: TrackPublished, meta: MessageMeta): void {
    const claim = this.claimOf(event.track_sid);
    if (claim && !this.sessions.has(event.room_name)) {
      this.options.logger.debug({ room: event.room_name, track_sid: event.track_sid, held_by: claim.instanceId }, 'another voice worker already listens to this track');
      return meta.respond?.({ instance_id: claim.instanceId, room_name: event.room_name, track_sid: event.track_sid, session_id: claim.sessionId });
    }
    let held = this.sessions.get(event.room_name);
    if (held && held.init.trackSid !== event.track_sid && held.init.userIdentity === event.participant_identity && !held.hearsAudio(TRACK_SILENT_MS)) {
      this.options.logger.info({ room: event.room_name, participant: event.participant_identity, old_track_sid: held.init.trackSid, track_sid: event.track_sid }, 'the user published a new microphone; the session moves to it');
      void held.end('track_replaced'); // ends synchronously (the room is free at once); the listener closes after
      held = undefined;
    }
    const session = held ?? this.startSession(event.room_name, event.room_sid, { identity: event.participant_identity, sid: event.participant_sid }, event.track_sid, event.trace_id, event.metadata);
    if (held && held.init.trackSid !== event.track_sid) {
      this.options.logger.warn({ room: event.room_name, participant: event.participant_identity }, 'a session already runs in this room (one user per room); track ignored');
    }
    meta.respond?.({ instance_id: this.options.instanceId, room_name: event.room_name, track_sid: session.init.trackSid, session_id: session.sessionId });
  }

  /**
   * Another voice worker started a session: if it listens to the same track as one of ours (the
   * webhook reached both, or was dispatched twice), the later of the two ends, so the user has one
   * agent listening and answering.
   */
  private onSessionStarted(started: SessionStarted): void {
    if (!started.instance_id || started.instance_id === this.options.instanceId || !started.track_sid) return;
    this.claims.set(started.track_sid, { instanceId: started.instance_id, sessionId: started.session_id, startedIso: started.timestamp, seenAt: Date.now() });
    const session = this.sessions.get(started.room_name);
    if (!session || session.init.trackSid !== started.track_sid) return;
    if (keepsSession({ startedIso: session.startedIso, instanceId: this.options.instanceId }, { startedIso: started.timestamp, instanceId: started.instance_id })) return;
    this.counts.duplicateSessions++;
    this.options.logger.info({ room: started.room_name, track_sid: started.track_sid, kept_by: started.instance_id }, 'another voice worker started this session first; ending ours');
    void session.end('duplicate_session');
  }

  /** Another worker's live session of this track, if one started within CLAIM_TTL_MS and has not ended. */
  private claimOf(trackSid: string): SessionClaim | undefined {
    const now = Date.now();
    for (const [track, claim] of this.claims) if (now - claim.seenAt > CLAIM_TTL_MS) this.claims.delete(track);
    return this.claims.get(trackSid);
  }

  private forgetClaim(sessionId: string): void {
    for (const [track, claim] of this.claims) if (claim.sessionId === sessionId) this.claims.delete(track);
  }

  /** In the queue group below VOICE_MAX_SESSIONS, out of it at the maximum. */
  private updateAdmission(): void {
    this.admission.update().catch((error: Error) => this.options.logger.error({ err: error }, 'could not change queue-group membership'));
  }

  private async onTrackUnpublished(room: string, participant: ParticipantInfo, track: TrackInfo): Promise<void> {
    if (!isMicrophone(track) || !(await this.directory.isUser(room, participant.identity))) return;
    const started = this.trackStartedAt.get(track.sid);
    this.trackStartedAt.delete(track.sid);
    this.noticed.delete(track.sid);
    // Every voice worker hears it; the one whose session listens to this track ends it.
    this.options.bus.publish('agent.voice.track.unpublished', {
      event: 'track_unpublished',
      room_name: room,
      participant_sid: participant.sid,
      participant_identity: participant.identity,
      track_sid: track.sid,
      reason: 'track_unpublished',
      duration_seconds: started ? Math.round((Date.now() - started) / 100) / 10 : 0,
    });
  }

  private startSession(
    room: string,
    roomSid: string | undefined,
    participant: Pick<ParticipantInfo, 'identity' | 'sid'>,
    trackSid: string,
    traceId: string,
    profile: Record<string, unknown> | undefined,
  ): VoiceSession {
    const { bus, config, logger, vad, stt, turnDetector, instanceId, service } = this.options;
    const session = new VoiceSession(
      {
        roomName: room,
        ...(roomSid ? { roomSid } : {}),
        userIdentity: participant.identity,
        participantSid: participant.sid,
        trackSid,
        traceId,
        ...(profile ? { userProfile: profile } : {}),
      },
      {
        bus,
        config,
        logger,
        vad,
        stt,
        ...(turnDetector ? { turnDetector } : {}),
        tts: this.tts,
        instanceId,
        service,
        onEnded: (ended, reason) => {
          if (this.sessions.get(room) === ended) this.sessions.delete(room);
          this.pastVoiceToVoice.push(...ended.voiceToVoiceSamples);
          this.counts.turnsEndedAtPause += ended.turnJudgments.over;
          this.counts.pausesMidTurn += ended.turnJudgments['not-over'];
          this.counts.pausesOverIfQuiet += ended.turnJudgments['over-if-quiet'];
          this.counts.resumes += ended.controller.resumes;
          if (ended.controller.soundStopsOff) this.counts.soundStopsOff++;
          if (this.pastVoiceToVoice.length > MAX_KEPT_SAMPLES) this.pastVoiceToVoice.splice(0, this.pastVoiceToVoice.length - MAX_KEPT_SAMPLES);
          this.updateAdmission();
          // The user may still be there, talking to no one: look again shortly.
          if (!this.stopping && !FINAL_END_REASONS.has(reason)) setTimeout(() => void this.reconcile(), 1_000).unref();
        },
        noticeBusy: (traceId) => this.sayNotice(room, traceId, config.VOICE_BUSY_MESSAGE, session.sessionId),
      },
    );
    this.sessions.set(room, session);
    this.updateAdmission();
    session.start().catch((error: Error) => {
      logger.error({ err: error, room }, 'could not join the room');
      bus.publish('agent.voice.error', { error_type: 'livekit_join_failed', error_message: error.message, room_name: room, instance_id: instanceId });
      void session.end('join_failed');
    });
    return session;
  }

  /**
   * Dispatch a session for every user microphone nobody listens to (see reconcile.ts). Only one
   * voice worker does it — the live one with the smallest instance id — so two never both send
   * the same room.
   */
  private reconcile(): Promise<void> {
    this.reconciling ??= (async () => {
      const { logger } = this.options;
      if (!this.instances.isLeader()) {
        this.reconciling = undefined;
        return;
      }
      try {
        const unheard = await findUnheardMicrophones({
          roomService: this.roomService,
          directory: this.directory,
          listenerPrefix: this.listenerPrefix,
          instances: this.instances,
          hasSession: (room) => this.sessions.has(room),
          logger,
        });
        for (const { room, participant, track } of unheard) {
          if (this.stopping || this.sessions.has(room.name)) continue;
          logger.info({ room: room.name, participant: participant.identity, track_sid: track.sid }, 'a user microphone has no listener; dispatching a session');
          await this.dispatch(room.name, room.sid, participant, track.sid);
        }
      } catch (error) {
        logger.warn({ err: error }, 'could not reconcile rooms with LiveKit');
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }
}
