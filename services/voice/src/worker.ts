import { checkVariable, defineWorker } from '@arc/runtime';
import {
  SmartTurnDetector,
  SttEngines,
  TtsEngines,
  VadEngines,
  inferenceStats,
  speechSettings,
  startSttPool,
  startTurnThread,
  startVadThread,
  type PooledStt,
  type PooledVad,
  type SttEngine,
  type TurnDetector,
  type VadEngine,
} from '@arc/speech';
import { VoiceConfig } from './config.js';
import { VoiceService } from './voice-service.js';
import { startWebhookServer } from './webhook.js';

export const VOICE_SERVICE = 'arc-scarlett-voice';

export const voiceWorker = defineWorker({
  service: VOICE_SERVICE,
  config: VoiceConfig,
  check(config) {
    const voice = config.VOICE_TTS_VOICE;
    if (voice !== undefined) {
      checkVariable('VOICE_TTS_VOICE', voice, () => {
        if (!TtsEngines.names.some((engine) => isChoice(() => TtsEngines.check({ engine, model: voice })))) throw new Error('is not a voice of any TTS engine in the models manifest');
      });
    }
    checkVariable('VOICE_VAD_MODEL', config.VOICE_VAD_MODEL, () => VadEngines.check({ engine: config.VOICE_VAD_ENGINE, model: config.VOICE_VAD_MODEL }));
    checkVariable('VOICE_STT_MODEL', config.VOICE_STT_MODEL, () => SttEngines.check({ engine: config.VOICE_STT_ENGINE, model: config.VOICE_STT_MODEL }));
    if (config.VOICE_TURN_DETECTOR === 'smart-turn') {
      checkVariable('VOICE_TURN_MODEL', config.VOICE_TURN_MODEL, () => SmartTurnDetector.check(config.VOICE_TURN_MODEL));
      if (config.VOICE_TURN_PAUSE_MS >= config.VOICE_TURN_MAX_SILENCE_MS) {
        checkVariable('VOICE_TURN_PAUSE_MS', String(config.VOICE_TURN_PAUSE_MS), () => {
          throw new Error(`must be shorter than VOICE_TURN_MAX_SILENCE_MS (${config.VOICE_TURN_MAX_SILENCE_MS})`);
        });
      }
    }
  },
  // What changes without a restart (system.config.changed): the voice, the turn threshold and the
  // brain request limits from the next sentence or turn; VAD, barge-in, silence and backchannels
  // from the next session.
  live: [
    'VOICE_TTS_VOICE',
    'VOICE_TURN_THRESHOLD',
    'VOICE_LLM_MAX_TOKENS',
    'VOICE_LLM_TEMPERATURE',
    'VOICE_LLM_TIMEOUT_MS',
    'VOICE_VAD_THRESHOLD',
    'VOICE_BARGE_IN_THRESHOLD',
    'VOICE_BARGE_IN_SOUND_MS',
    'VOICE_TURN_MAX_SILENCE_MS',
    'VOICE_BACKCHANNELS',
  ],
  async start({ bus, config, logger, instanceId, service }) {
    const vadChoice = { engine: config.VOICE_VAD_ENGINE, model: config.VOICE_VAD_MODEL };
    const sttChoice = { engine: config.VOICE_STT_ENGINE, model: config.VOICE_STT_MODEL };
    const settings = speechSettings(config);
    // Models load and run in inference threads: the event loop keeps to NATS, LiveKit and HTTP.
    const threads = config.SPEECH_THREADS;
    const smartTurn = config.VOICE_TURN_DETECTOR === 'smart-turn';
    const [vad, stt, turnDetector]: [VadEngine, SttEngine, TurnDetector | undefined] = await Promise.all([
      threads > 0 ? startVadThread(vadChoice, settings) : VadEngines.create(vadChoice, settings),
      threads > 0 ? startSttPool(sttChoice, settings, threads, config.SPEECH_THREAD_NICENESS) : SttEngines.create(sttChoice, settings),
      !smartTurn ? undefined : threads > 0 ? startTurnThread(config.VOICE_TURN_MODEL, settings) : SmartTurnDetector.load({ model: config.VOICE_TURN_MODEL, settings }),
    ]);
    const engines = [vad, stt, ...(turnDetector ? [turnDetector] : [])];
    const voice = new VoiceService({ bus, config, logger, vad, stt, ...(turnDetector ? { turnDetector } : {}), instanceId, service });
    voice.start();
    const http = await startWebhookServer({
      host: config.VOICE_HTTP_HOST,
      port: config.VOICE_HTTP_PORT,
      apiKey: config.LIVEKIT_API_KEY,
      apiSecret: config.LIVEKIT_API_SECRET,
      logger,
      onEvent: (event) => voice.onWebhook(event),
      onRejected: (reason) => {
        voice.webhookRejected();
        logger.warn({ reason }, 'webhook rejected');
      },
      health: () => ({
        status: 'ok',
        service,
        instance_id: instanceId,
        sessions: voice.activeSessions,
        // for leak checks: live handles/requests of the process and its memory
        resources: process.getActiveResourcesInfo().length,
        memory_mb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
      }),
    });
    logger.info(
      { url: `${http.url}/livekit/webhook`, vad: vad.name, stt: stt.name, turn_detector: turnDetector?.name ?? 'vad' },
      'voice worker ready: LiveKit webhooks go to this URL',
    );
    return {
      activeSessions: () => voice.activeSessions,
      load: () => Math.max(voice.fullness, ...[vad, stt].map((engine) => ('pool' in engine ? (engine as PooledVad | PooledStt).pool.utilization() : 0))),
      metrics: () => ({ models: engines.map((engine) => engine.name), ...voice.metrics(), ...inferenceStats(engines) }),
      async stop() {
        await voice.stop();
        await new Promise<void>((resolve) => http.server.close(() => resolve()));
        await Promise.all(engines.map((engine) => engine.close()));
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});

function isChoice(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}
