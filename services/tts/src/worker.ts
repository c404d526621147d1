import { checkVariable, defineWorker } from '@arc/runtime';
import { PooledTts, TtsEngines, inferenceStats, speechSettings, startTtsPool, type TtsEngine } from '@arc/speech';
import { TtsConfig } from './config.js';
import { TtsService } from './tts-service.js';

export const TTS_SERVICE = 'arc-piper-tts';

const voiceChoices = (config: TtsConfig) => config.TTS_VOICES.split(',').map((voice) => ({ engine: config.TTS_ENGINE, model: voice.trim() }));

export const ttsWorker = defineWorker({
  service: TTS_SERVICE,
  config: TtsConfig,
  check(config) {
    for (const choice of voiceChoices(config)) checkVariable('TTS_VOICES', config.TTS_VOICES, () => TtsEngines.check(choice));
  },
  async start({ bus, config, logger, instanceId, reportError }) {
    const choices = voiceChoices(config);
    // Voices load once and are warmed up, so no request pays for it — in inference threads,
    // so synthesis never holds up the event loop (NATS, LiveKit, cancels).
    const settings = speechSettings(config);
    const loaded: TtsEngine[] = [];
    if (config.SPEECH_THREADS > 0) loaded.push(...(await startTtsPool(choices, settings, config.SPEECH_THREADS, config.SPEECH_THREAD_NICENESS)));
    else for (const choice of choices) loaded.push(await TtsEngines.create(choice, settings));
    const voices = new Map(loaded.map((voice) => [voice.id, voice]));
    const pools = new Set(loaded.flatMap((voice) => (voice instanceof PooledTts ? [voice.pool] : [])));
    for (const voice of loaded) logger.info({ voice: voice.id, sample_rate: voice.sampleRate, threads: config.SPEECH_THREADS }, 'voice loaded');
    const service = new TtsService({
      bus,
      logger,
      instanceId,
      voices,
      livekit: { url: config.LIVEKIT_URL, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET },
      identity: config.TTS_IDENTITY,
      queueGroup: config.TTS_QUEUE_GROUP,
      maxRooms: config.TTS_MAX_ROOMS,
      sampleRate: config.TTS_SAMPLE_RATE,
      idleTimeoutMs: config.TTS_IDLE_TIMEOUT_MS,
      listenerWaitMs: config.TTS_LISTENER_WAIT_MS,
      maxTextChars: config.TTS_MAX_TEXT_CHARS,
      reportError,
    });
    await service.start();
    logger.info({ worker_subject: service.workerSubject, voices: [...voices.keys()] }, 'TTS worker ready');
    return {
      activeSessions: () => service.activeRooms,
      load: () => Math.max(service.fullness, ...[...pools].map((pool) => pool.utilization())),
      metrics: () => ({ models: [...voices.keys()], ...service.metrics(), ...inferenceStats(loaded) }),
      async stop() {
        await service.stop();
        await Promise.all([...voices.values()].map((voice) => voice.close()));
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});
