import { RoomServiceClient } from 'livekit-server-sdk';
import { ttsWorkerRequestSubject, type TtsCancel, type TtsRequest } from '@arc/contracts';
import type { MessageMeta } from '@arc/bus';
import { defineWorker } from '@arc/runtime';
import { PiperVoice, listVoices } from '@arc/speech';
import { TtsConfig } from './config.js';
import { RoomSpeaker } from './room-speaker.js';

export const TTS_SERVICE = 'arc-piper-tts';

/** Voice ids are model ids (`piper-en_US-joe-medium`); Piper's own names (`en_US-joe-medium`) work too. */
function voiceKey(voiceId: string): string {
  return voiceId.startsWith('piper-') ? voiceId : `piper-${voiceId}`;
}

export const ttsWorker = defineWorker({
  service: TTS_SERVICE,
  config: TtsConfig,
  async start({ bus, config, logger, instanceId, reportError }) {
    // Voices load once and are warmed up, so no request pays for it.
    const voices = new Map<string, PiperVoice>();
    for (const id of config.TTS_VOICES.split(',').map((v) => v.trim()).filter(Boolean)) {
      const voice = await PiperVoice.load({ voice: id });
      await voice.synthesize('Ready.');
      voices.set(voiceKey(id), voice);
      logger.info({ voice: id, sample_rate: voice.sampleRate }, 'voice loaded');
    }
    const defaultVoice = [...voices.keys()][0]!;
    const rooms = new Map<string, RoomSpeaker>();
    const joining = new Map<string, Promise<RoomSpeaker>>();
    const roomService = new RoomServiceClient(config.LIVEKIT_URL.replace(/^ws/, 'http'), config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET);
    const workerSubject = ttsWorkerRequestSubject(instanceId);
    let latencyExceeded = 0;

    const speakerFor = async (roomName: string, sampleRate: number): Promise<RoomSpeaker> => {
      const held = rooms.get(roomName);
      if (held) return held;
      let pending = joining.get(roomName);
      if (!pending) {
        pending = (async () => {
          // LiveKit creates rooms on join; the agent must not conjure up rooms nobody is in.
          const existing = await roomService.listRooms([roomName]);
          if (existing.length === 0) throw new TtsRequestError('room_not_found', `room "${roomName}" does not exist`);
          const speaker = await RoomSpeaker.join({
            livekitUrl: config.LIVEKIT_URL,
            apiKey: config.LIVEKIT_API_KEY,
            apiSecret: config.LIVEKIT_API_SECRET,
            identity: `${config.TTS_IDENTITY}-${instanceId}`.slice(0, 128),
            roomName,
            sampleRate,
            logger,
            onClosed: () => rooms.delete(roomName),
          });
          rooms.set(roomName, speaker);
          return speaker;
        })().finally(() => joining.delete(roomName));
        joining.set(roomName, pending);
      }
      return pending;
    };

    const fail = (request: TtsRequest, errorType: string, message: string) => {
      logger.warn({ request_id: request.request_id, room: request.target_room, error_type: errorType }, message);
      bus.publish('agent.tts.error', {
        trace_id: request.trace_id,
        request_id: request.request_id,
        session_id: request.session_id,
        target_room: request.target_room,
        instance_id: instanceId,
        error_type: errorType,
        error_message: message,
      });
    };

    const handleRequest = async (request: TtsRequest, meta: MessageMeta) => {
      const receivedAt = performance.now() - Math.max(0, meta.hopLatencyMs);
      const voice = voices.get(voiceKey(request.voice_id ?? defaultVoice));
      // Reply first (affinity): the sender routes the room's later sentences to this worker.
      meta.respond?.({ request_id: request.request_id, instance_id: instanceId, target_room: request.target_room, worker_subject: workerSubject });
      if (!voice) return fail(request, 'unknown_voice', `voice "${request.voice_id}" is not loaded; available: ${[...voices.keys()].join(', ')} (manifest: ${listVoices().join(', ')})`);
      if (request.text.length > config.TTS_MAX_TEXT_CHARS) {
        return fail(request, 'text_too_long', `text has ${request.text.length} characters, over TTS_MAX_TEXT_CHARS=${config.TTS_MAX_TEXT_CHARS}`);
      }
      let speaker: RoomSpeaker;
      try {
        speaker = await speakerFor(request.target_room, request.constraints?.sample_rate ?? config.TTS_SAMPLE_RATE);
      } catch (error) {
        if (error instanceof TtsRequestError) return fail(request, error.errorType, error.message);
        return fail(request, 'livekit_error', `could not join room "${request.target_room}": ${(error as Error).message}`);
      }
      const outcome = await speaker.speak({ requestId: request.request_id, text: request.text, voice, receivedAt });
      if (outcome.status === 'completed' && outcome.durationMs === 0) {
        return fail(request, 'nothing_to_say', 'the text has nothing speakable (only punctuation or symbols)');
      }
      const maxLatency = request.constraints?.max_latency_ms;
      if (maxLatency !== undefined && outcome.firstAudioMs !== undefined && outcome.firstAudioMs > maxLatency) {
        latencyExceeded++;
        logger.warn({ request_id: request.request_id, first_audio_ms: Math.round(outcome.firstAudioMs), max_latency_ms: maxLatency }, 'max_latency_ms exceeded');
      }
      const publishCompleted = () =>
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
        });
      // "completed" when the audio has played out, not merely been handed to LiveKit.
      if (outcome.playoutRemainingMs > 0) setTimeout(publishCompleted, outcome.playoutRemainingMs).unref();
      else publishCompleted();
    };

    const onRequest = (request: TtsRequest, meta: MessageMeta) =>
      handleRequest(request, meta).catch((error: Error) => {
        reportError('synthesis_failed', `request ${request.request_id}: ${error.message}`, 'error', { trace_id: request.trace_id });
        fail(request, 'synthesis_failed', error.message);
      });
    bus.subscribe('agent.tts.request', onRequest, { queue: config.TTS_QUEUE_GROUP });
    bus.subscribe(workerSubject, onRequest);
    bus.subscribe('agent.tts.cancel', (cancel: TtsCancel) => {
      const targets = cancel.target_room ? [rooms.get(cancel.target_room)] : [...rooms.values()];
      for (const speaker of targets) {
        const stopped = speaker?.cancel(cancel.request_id) ?? [];
        if (stopped.length > 0) logger.info({ room: speaker!.roomName, stopped, reason: cancel.reason }, 'cancelled');
      }
    });
    await bus.flush();

    const idleTimer = setInterval(() => {
      for (const speaker of rooms.values()) {
        if (!speaker.busy && Date.now() - speaker.lastActivity > config.TTS_IDLE_TIMEOUT_MS) void speaker.close('idle');
      }
    }, Math.min(5_000, config.TTS_IDLE_TIMEOUT_MS / 2));
    idleTimer.unref();
    logger.info({ worker_subject: workerSubject, voices: [...voices.keys()] }, 'TTS worker ready');

    return {
      activeSessions: () => rooms.size,
      metrics: () => ({ models: [...voices.keys()], tts_latency_exceeded: latencyExceeded }),
      async stop() {
        clearInterval(idleTimer);
        await Promise.all([...rooms.values()].map((speaker) => speaker.close('shutdown')));
        await Promise.all([...voices.values()].map((voice) => voice.close()));
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});

export class TtsRequestError extends Error {
  override readonly name = 'TtsRequestError';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}
