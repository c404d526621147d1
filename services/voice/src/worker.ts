import { RoomServiceClient, type ParticipantInfo, type TrackInfo, type WebhookEvent } from 'livekit-server-sdk';
import { newTraceId } from '@arc/contracts';
import { defineWorker } from '@arc/runtime';
import { MoonshineStt, SileroVad } from '@arc/speech';
import { TtsRoomRouter } from '@arc/tts';
import { VoiceConfig } from './config.js';
import { ParticipantDirectory, isMicrophone, userProfile } from './participants.js';
import { VoiceInstances, findUnheardMicrophones } from './reconcile.js';
import { VoiceSession } from './session.js';
import { startWebhookServer } from './webhook.js';

export const VOICE_SERVICE = 'arc-scarlett-voice';
/** Sessions ended for these reasons are over for good; any other end (a listener disconnected) is healed. */
const FINAL_END_REASONS = new Set(['track_unpublished', 'user_left', 'room_finished', 'shutdown']);

export const voiceWorker = defineWorker({
  service: VOICE_SERVICE,
  config: VoiceConfig,
  async start({ bus, config, logger, instanceId, service }) {
    const [vad, stt] = await Promise.all([SileroVad.load(), MoonshineStt.load()]);
    const router = new TtsRoomRouter(bus);
    const sessions = new Map<string, VoiceSession>(); // by room: one user per room
    const trackStartedAt = new Map<string, number>();
    let webhooksRejected = 0;
    let agentTracksIgnored = 0;
    const allVoiceToVoice: number[] = [];
    const roomService = new RoomServiceClient(config.LIVEKIT_URL.replace(/^ws/, 'http'), config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET);
    const listenerPrefix = `${config.VOICE_IDENTITY}-`;
    const directory = new ParticipantDirectory({
      arcIdentityPrefixes: [listenerPrefix, ...config.VOICE_AGENT_IDENTITY_PREFIXES.split(',').map((p) => p.trim()).filter(Boolean)],
      lookup: (room, identity) => roomService.getParticipant(room, identity).catch(() => undefined),
    });
    const instances = new VoiceInstances(instanceId, config.HEARTBEAT_INTERVAL_MS);
    bus.subscribe('system.health.heartbeat', (beat) => {
      if (beat.service === service && beat.instance_id) instances.beat(beat.instance_id, beat.interval_ms, beat.status === 'stopping');
    }, { deadLetter: false });

    const sessionOf = (requestId: string) => [...sessions.values()].find((s) => s.ownsRequest(requestId));
    const observe = {} as const;
    bus.subscribe('agent.brain.partial', (p) => sessionOf(p.request_id)?.onPartial(p), observe);
    bus.subscribe('agent.brain.response', (r) => sessionOf(r.request_id)?.onResponse(r), observe);
    bus.subscribe('agent.brain.error', (e) => sessionOf(e.request_id)?.onBrainError(e), observe);
    bus.subscribe('agent.tts.completed', (c) => sessionOf(c.request_id)?.onTtsCompleted(c), observe);
    bus.subscribe('agent.tts.error', (e) => {
      if (e.request_id) sessionOf(e.request_id)?.onTtsError(e.request_id);
    }, observe);

    let stopping = false;
    let reconciling: Promise<void> | undefined;
    /** Start a session for every user microphone nobody listens to (see reconcile.ts). */
    const reconcile = () =>
      (reconciling ??= (async () => {
        try {
          const unheard = await findUnheardMicrophones({ roomService, directory, listenerPrefix, instances, hasSession: (room) => sessions.has(room), logger });
          for (const { room, participant, track } of unheard) {
            if (stopping || sessions.has(room.name)) continue;
            logger.info({ room: room.name, participant: participant.identity, track_sid: track.sid }, 'a user microphone has no listener; starting a session');
            startSession(room.name, room.sid, participant.identity, participant.sid, track.sid, newTraceId());
          }
        } catch (error) {
          logger.warn({ err: error }, 'could not reconcile rooms with LiveKit');
        } finally {
          reconciling = undefined;
        }
      })());

    const startSession = (room: string, roomSid: string | undefined, identity: string, participantSid: string, trackSid: string, traceId: string) => {
      const profile = userProfile(directory.cached(room, identity));
      const session = new VoiceSession(
        {
          roomName: room,
          ...(roomSid ? { roomSid } : {}),
          userIdentity: identity,
          participantSid,
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
          router,
          instanceId,
          service,
          onEnded: (ended, reason) => {
            if (sessions.get(room) === ended) sessions.delete(room);
            allVoiceToVoice.push(...ended.voiceToVoiceSamples);
            if (allVoiceToVoice.length > 1000) allVoiceToVoice.splice(0, allVoiceToVoice.length - 1000);
            // The user may still be there, talking to no one: look again shortly.
            if (!stopping && !FINAL_END_REASONS.has(reason)) setTimeout(() => void reconcile(), 1_000).unref();
          },
        },
      );
      sessions.set(room, session);
      session.start().catch((error: Error) => {
        logger.error({ err: error, room }, 'could not join the room');
        bus.publish('agent.voice.error', { error_type: 'livekit_join_failed', error_message: error.message, room_name: room, instance_id: instanceId });
        void session.end('join_failed');
      });
    };

    const onTrackPublished = async (event: WebhookEvent, room: string, participant: ParticipantInfo, track: TrackInfo) => {
      if (!isMicrophone(track)) return;
      if (!(await directory.isUser(room, participant.identity))) {
        agentTracksIgnored++;
        logger.debug({ room, participant: participant.identity, track_sid: track.sid }, 'agent track published; not a user session');
        return;
      }
      const traceId = newTraceId();
      trackStartedAt.set(track.sid, Date.now());
      const metadata = userProfile(directory.cached(room, participant.identity));
      bus.publish('agent.voice.track.published', {
        event: 'track_published',
        trace_id: traceId,
        room_name: room,
        ...(event.room?.sid ? { room_sid: event.room.sid } : {}),
        participant_sid: participant.sid,
        participant_identity: participant.identity,
        track_sid: track.sid,
        track_kind: 'audio',
        track_source: 'microphone',
        ...(metadata ? { metadata } : {}),
      });
      if (sessions.has(room)) {
        logger.warn({ room, participant: participant.identity }, 'a session already runs in this room (one user per room); track ignored');
        return;
      }
      startSession(room, event.room?.sid, participant.identity, participant.sid, track.sid, traceId);
    };

    const onTrackUnpublished = async (room: string, participant: ParticipantInfo, track: TrackInfo) => {
      const session = sessions.get(room);
      const ownTrack = session?.init.trackSid === track.sid;
      // Only a user's microphone was announced as published; only its end is announced.
      if (!ownTrack && !(isMicrophone(track) && trackStartedAt.has(track.sid))) return;
      const started = trackStartedAt.get(track.sid);
      trackStartedAt.delete(track.sid);
      bus.publish('agent.voice.track.unpublished', {
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
    };

    const handleEvent = async (event: WebhookEvent) => {
      const room = event.room?.name ?? '';
      const { participant, track } = event;
      switch (event.event) {
        case 'participant_joined':
          if (participant) directory.remember(room, participant);
          return;
        case 'track_published':
          if (participant && track) await onTrackPublished(event, room, participant, track);
          return;
        case 'track_unpublished':
          if (participant && track) await onTrackUnpublished(room, participant, track);
          return;
        case 'participant_left':
          if (!participant) return;
          directory.forget(room, participant.identity);
          if (sessions.get(room)?.init.userIdentity === participant.identity) await sessions.get(room)!.end('user_left');
          return;
        case 'room_finished':
          directory.forgetRoom(room);
          await sessions.get(room)?.end('room_finished');
          return;
        default:
          logger.debug({ event: event.event, room }, 'webhook event ignored');
      }
    };
    // One room's webhooks are handled in the order they arrived (a lookup may wait on LiveKit).
    const roomQueues = new Map<string, Promise<void>>();
    const onEvent = (event: WebhookEvent) => {
      const room = event.room?.name ?? '';
      const next = (roomQueues.get(room) ?? Promise.resolve())
        .then(() => handleEvent(event))
        .catch((error: Error) => logger.error({ err: error, room, event: event.event }, 'webhook event failed'));
      roomQueues.set(room, next);
      void next.finally(() => {
        if (roomQueues.get(room) === next) roomQueues.delete(room);
      });
    };

    const http = await startWebhookServer({
      host: config.VOICE_HTTP_HOST,
      port: config.VOICE_HTTP_PORT,
      apiKey: config.LIVEKIT_API_KEY,
      apiSecret: config.LIVEKIT_API_SECRET,
      logger,
      onEvent,
      onRejected: (reason) => {
        webhooksRejected++;
        logger.warn({ reason }, 'webhook rejected');
      },
      health: () => ({
        status: 'ok',
        service,
        instance_id: instanceId,
        sessions: sessions.size,
        // for leak checks: live handles/requests of the process and its memory
        resources: process.getActiveResourcesInfo().length,
        memory_mb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
      }),
    });
    logger.info({ url: `${http.url}/livekit/webhook` }, 'voice worker ready: LiveKit webhooks go to this URL');
    void reconcile();
    const reconcileTimer = config.VOICE_RECONCILE_INTERVAL_MS > 0 ? setInterval(() => void reconcile(), config.VOICE_RECONCILE_INTERVAL_MS) : undefined;
    reconcileTimer?.unref();

    const median = () => {
      const sorted = [...allVoiceToVoice, ...[...sessions.values()].flatMap((s) => s.voiceToVoiceSamples)].sort((a, b) => a - b);
      return sorted.length ? Math.round(sorted[Math.floor(sorted.length / 2)]!) : undefined;
    };
    return {
      activeSessions: () => sessions.size,
      metrics: () => {
        const p50 = median();
        return { models: ['silero-vad-v5', 'moonshine-base-en'], webhooks_rejected: webhooksRejected, agent_tracks_ignored: agentTracksIgnored, ...(p50 === undefined ? {} : { voice_to_voice_p50_ms: p50 }) };
      },
      async stop() {
        stopping = true;
        clearInterval(reconcileTimer);
        await reconciling;
        await Promise.all([...sessions.values()].map((s) => s.end('shutdown')));
        await new Promise<void>((resolve) => http.server.close(() => resolve()));
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});
