/**
 * The voice worker's sessions: LiveKit webhooks in (track and participant events), one session
 * per room with a user's microphone, brain and TTS events handed to the session whose turn they
 * answer, and self-healing for microphones nobody listens to (see reconcile.ts).
 */
import { RoomServiceClient, type ParticipantInfo, type TrackInfo, type WebhookEvent } from 'livekit-server-sdk';
import { newTraceId } from '@arc/contracts';
import { StickyRouter, type Bus, type BusSubscription } from '@arc/bus';
import type { CommonConfig, Logger } from '@arc/runtime';
import type { SttEngine, VadEngine } from '@arc/speech';
import type { VoiceConfig } from './config.js';
import { ParticipantDirectory, isMicrophone, userProfile } from './participants.js';
import { VoiceInstances, findUnheardMicrophones } from './reconcile.js';
import { VoiceSession } from './voice-session.js';

/** Sessions ended for these reasons are over for good; any other end (a listener disconnected) is healed. */
const FINAL_END_REASONS = new Set(['track_unpublished', 'user_left', 'room_finished', 'shutdown']);
const MAX_KEPT_SAMPLES = 1000;

export interface VoiceServiceOptions {
  bus: Bus;
  config: CommonConfig & VoiceConfig;
  logger: Logger;
  vad: VadEngine;
  stt: SttEngine;
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
  private stopping = false;
  private counts = { webhooksRejected: 0, agentTracksIgnored: 0 };

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
  }

  start(): void {
    const { bus, service } = this.options;
    const turnsOf = (requestId: string) => [...this.sessions.values()].find((s) => s.controller.owns(requestId))?.controller;
    this.subscriptions.push(
      bus.subscribe('agent.brain.partial', (p) => turnsOf(p.request_id)?.brainPartial(p)),
      bus.subscribe('agent.brain.response', (r) => turnsOf(r.request_id)?.brainResponse(r)),
      bus.subscribe('agent.brain.error', (e) => turnsOf(e.request_id)?.brainError(e)),
      bus.subscribe('agent.tts.completed', (c) => turnsOf(c.request_id)?.ttsCompleted(c)),
      bus.subscribe('agent.tts.error', (e) => {
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

  webhookRejected(): void {
    this.counts.webhooksRejected++;
  }

  metrics(): { webhooks_rejected: number; agent_tracks_ignored: number; voice_to_voice_p50_ms?: number } {
    const samples = [...this.pastVoiceToVoice, ...[...this.sessions.values()].flatMap((s) => s.voiceToVoiceSamples)].sort((a, b) => a - b);
    return {
      webhooks_rejected: this.counts.webhooksRejected,
      agent_tracks_ignored: this.counts.agentTracksIgnored,
      ...(samples.length ? { voice_to_voice_p50_ms: Math.round(samples[Math.floor(samples.length / 2)]!) } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reconcileTimer);
    await this.reconciling;
    await Promise.allSettled(this.subscriptions.map((sub) => sub.unsubscribe()));
    await Promise.all([...this.sessions.values()].map((s) => s.end('shutdown')));
  }

  /** A verified LiveKit webhook. One room's events are handled in the order they arrived (a lookup may wait on LiveKit). */
  onWebhook(event: WebhookEvent): void {
    const room = event.room?.name ?? '';
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
      case 'participant_left':
        if (!participant) return;
        this.directory.forget(room, participant.identity);
        if (this.sessions.get(room)?.init.userIdentity === participant.identity) await this.sessions.get(room)!.end('user_left');
        return;
      case 'room_finished':
        this.directory.forgetRoom(room);
        await this.sessions.get(room)?.end('room_finished');
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
    const traceId = newTraceId();
    this.trackStartedAt.set(track.sid, Date.now());
    const metadata = userProfile(this.directory.cached(room, participant.identity));
    this.options.bus.publish('agent.voice.track.published', {
      event: 'track_published',
      trace_id: traceId,
      room_name: room,
      ...(roomSid ? { room_sid: roomSid } : {}),
      participant_sid: participant.sid,
      participant_identity: participant.identity,
      track_sid: track.sid,
      track_kind: 'audio',
      track_source: 'microphone',
      ...(metadata ? { metadata } : {}),
    });
    if (this.sessions.has(room)) {
      this.options.logger.warn({ room, participant: participant.identity }, 'a session already runs in this room (one user per room); track ignored');
      return;
    }
    this.startSession(room, roomSid, participant, track.sid, traceId);
  }

  private async onTrackUnpublished(room: string, participant: ParticipantInfo, track: TrackInfo): Promise<void> {
    const session = this.sessions.get(room);
    const ownTrack = session?.init.trackSid === track.sid;
    // Only a user's microphone was announced as published; only its end is announced.
    if (!ownTrack && !this.trackStartedAt.has(track.sid)) return;
    const started = this.trackStartedAt.get(track.sid);
    this.trackStartedAt.delete(track.sid);
    this.options.bus.publish('agent.voice.track.unpublished', {
      event: 'track_unpublished',
      room_name: room,
      participant_sid: participant.sid,
      participant_identity: participant.identity,
      track_sid: track.sid,
      reason: 'track_unpublished',
      duration_seconds: started ? Math.round((Date.now() - started) / 100) / 10 : 0,
    });
    // A session ends with its own track, never because another participant's track went away.
    if (ownTrack) await session!.end('track_unpublished');
  }

  private startSession(room: string, roomSid: string | undefined, participant: Pick<ParticipantInfo, 'identity' | 'sid'>, trackSid: string, traceId: string): void {
    const { bus, config, logger, vad, stt, instanceId, service } = this.options;
    const profile = userProfile(this.directory.cached(room, participant.identity));
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
        tts: this.tts,
        instanceId,
        service,
        onEnded: (ended, reason) => {
          if (this.sessions.get(room) === ended) this.sessions.delete(room);
          this.pastVoiceToVoice.push(...ended.voiceToVoiceSamples);
          if (this.pastVoiceToVoice.length > MAX_KEPT_SAMPLES) this.pastVoiceToVoice.splice(0, this.pastVoiceToVoice.length - MAX_KEPT_SAMPLES);
          // The user may still be there, talking to no one: look again shortly.
          if (!this.stopping && !FINAL_END_REASONS.has(reason)) setTimeout(() => void this.reconcile(), 1_000).unref();
        },
      },
    );
    this.sessions.set(room, session);
    session.start().catch((error: Error) => {
      logger.error({ err: error, room }, 'could not join the room');
      bus.publish('agent.voice.error', { error_type: 'livekit_join_failed', error_message: error.message, room_name: room, instance_id: instanceId });
      void session.end('join_failed');
    });
  }

  /** Start a session for every user microphone nobody listens to (see reconcile.ts). */
  private reconcile(): Promise<void> {
    this.reconciling ??= (async () => {
      const { logger } = this.options;
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
          logger.info({ room: room.name, participant: participant.identity, track_sid: track.sid }, 'a user microphone has no listener; starting a session');
          this.startSession(room.name, room.sid, participant, track.sid, newTraceId());
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
