import type { WebhookEvent } from 'livekit-server-sdk';
import { newTraceId } from '@arc/contracts';
import { defineWorker } from '@arc/runtime';
import { MoonshineStt, SileroVad } from '@arc/speech';
import { TtsRoomRouter } from '@arc/tts';
import { VoiceConfig } from './config.js';
import { VoiceSession } from './session.js';
import { startWebhookServer } from './webhook.js';

export const VOICE_SERVICE = 'arc-scarlett-voice';
const TRACK_TYPE_AUDIO = 0; // livekit.TrackType.AUDIO
const PARTICIPANT_KIND_AGENT = 4; // livekit.ParticipantInfo.Kind.AGENT

function parseProfile(metadata: string | undefined, attributes: Record<string, string> | undefined): Record<string, unknown> | undefined {
  const profile: Record<string, unknown> = { ...(attributes ?? {}) };
  if (metadata) {
    try {
      const parsed: unknown = JSON.parse(metadata);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(profile, parsed);
    } catch {
      // metadata that is not JSON is not a profile
    }
  }
  return Object.keys(profile).length > 0 ? profile : undefined;
}

export const voiceWorker = defineWorker({
  service: VOICE_SERVICE,
  config: VoiceConfig,
  async start({ bus, config, logger, instanceId, service }) {
    const [vad, stt] = await Promise.all([SileroVad.load(), MoonshineStt.load()]);
    const router = new TtsRoomRouter(bus);
    const sessions = new Map<string, VoiceSession>(); // by room: one user per room
    const trackStartedAt = new Map<string, number>();
    let webhooksRejected = 0;
    const allVoiceToVoice: number[] = [];

    const sessionOf = (requestId: string) => [...sessions.values()].find((s) => s.ownsRequest(requestId));
    const observe = {} as const;
    bus.subscribe('agent.brain.partial', (p) => sessionOf(p.request_id)?.onPartial(p), observe);
    bus.subscribe('agent.brain.response', (r) => sessionOf(r.request_id)?.onResponse(r), observe);
    bus.subscribe('agent.brain.error', (e) => sessionOf(e.request_id)?.onBrainError(e), observe);
    bus.subscribe('agent.tts.completed', (c) => sessionOf(c.request_id)?.onTtsCompleted(c), observe);
    bus.subscribe('agent.tts.error', (e) => {
      if (e.request_id) sessionOf(e.request_id)?.onTtsError(e.request_id);
    }, observe);

    const endSession = (room: string, reason: string) => void sessions.get(room)?.end(reason);

    const onEvent = (event: WebhookEvent) => {
      const room = event.room?.name ?? '';
      const participant = event.participant;
      const track = event.track;
      const isUserAudio = participant !== undefined && Number(participant.kind) !== PARTICIPANT_KIND_AGENT && track !== undefined && Number(track.type) === TRACK_TYPE_AUDIO;
      switch (event.event) {
        case 'track_published': {
          if (!isUserAudio) return;
          const traceId = newTraceId();
          trackStartedAt.set(track.sid, Date.now());
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
            ...(participant.metadata ? { metadata: parseProfile(participant.metadata, undefined) ?? {} } : {}),
          });
          if (sessions.has(room)) {
            logger.warn({ room, participant: participant.identity }, 'a session already runs in this room (one user per room); track ignored');
            return;
          }
          const session = new VoiceSession(
            {
              roomName: room,
              ...(event.room?.sid ? { roomSid: event.room.sid } : {}),
              userIdentity: participant.identity,
              participantSid: participant.sid,
              trackSid: track.sid,
              traceId,
              ...(parseProfile(participant.metadata, participant.attributes) ? { userProfile: parseProfile(participant.metadata, participant.attributes)! } : {}),
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
              onEnded: (ended) => {
                if (sessions.get(room) === ended) sessions.delete(room);
                allVoiceToVoice.push(...ended.voiceToVoiceSamples);
                if (allVoiceToVoice.length > 1000) allVoiceToVoice.splice(0, allVoiceToVoice.length - 1000);
              },
            },
          );
          sessions.set(room, session);
          session.start().catch((error: Error) => {
            logger.error({ err: error, room }, 'could not join the room');
            bus.publish('agent.voice.error', { error_type: 'livekit_join_failed', error_message: error.message, room_name: room, instance_id: instanceId });
            void session.end('join_failed');
          });
          return;
        }
        case 'track_unpublished': {
          if (!isUserAudio) return;
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
          endSession(room, 'track_unpublished');
          return;
        }
        case 'participant_left':
          if (participant && sessions.get(room)?.init.userIdentity === participant.identity) endSession(room, 'user_left');
          return;
        case 'room_finished':
          endSession(room, 'room_finished');
          return;
        default:
          logger.debug({ event: event.event, room }, 'webhook event ignored');
      }
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

    const median = () => {
      const sorted = [...allVoiceToVoice, ...[...sessions.values()].flatMap((s) => s.voiceToVoiceSamples)].sort((a, b) => a - b);
      return sorted.length ? Math.round(sorted[Math.floor(sorted.length / 2)]!) : undefined;
    };
    return {
      activeSessions: () => sessions.size,
      metrics: () => {
        const p50 = median();
        return { models: ['silero-vad-v5', 'moonshine-base-en'], webhooks_rejected: webhooksRejected, ...(p50 === undefined ? {} : { voice_to_voice_p50_ms: p50 }) };
      },
      async stop() {
        await Promise.all([...sessions.values()].map((s) => s.end('shutdown')));
        await new Promise<void>((resolve) => http.server.close(() => resolve()));
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});
