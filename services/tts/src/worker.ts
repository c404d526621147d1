import { checkVariable, defineWorker } from '@arc/runtime';
import { TtsEngines, speechSettings, type TtsEngine } from '@arc/speech';
import { TtsConfig } from './config.js';
import { TtsService } from './tts-service.js';

export const TTS_SERVICE = 'arc-piper-tts';

export const ttsWorker = defineWorker({
  service: TTS_SERVICE,
  config: TtsConfig,
  async start({ bus, config, logger, instanceId, reportError }) {
    const choices = config.TTS_VOICES.split(',').map((voice) => ({ engine: config.TTS_ENGINE, model: voice.trim() }));
    for (const choice of choices) checkVariable('TTS_VOICES', config.TTS_VOICES, () => TtsEngines.check(choice));
    // Voices load once and are warmed up, so no request pays for it.
    const settings = speechSettings(config);
    const voices = new Map<string, TtsEngine>();
    for (const choice of choices) {
      const voice = await TtsEngines.create(choice, settings);
      voices.set(voice.id, voice);
      logger.info({ voice: voice.id, sample_rate: voice.sampleRate }, 'voice loaded');
    }
    const service = new TtsService({
      bus,
      logger,
      instanceId,
      voices,
      livekit: { url: config.LIVEKIT_URL, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET },
      identity: config.TTS_IDENTITY,
      queueGroup: config.TTS_QUEUE_GROUP,
      sampleRate: config.TTS_SAMPLE_RATE,
      idleTimeoutMs: config.TTS_IDLE_TIMEOUT_MS,
      maxTextChars: config.TTS_MAX_TEXT_CHARS,
      reportError,
    });
    await service.start();
    logger.info({ worker_subject: service.workerSubject, voices: [...voices.keys()] }, 'TTS worker ready');
    return {
      activeSessions: () => service.activeRooms,
      metrics: () => ({ models: [...voices.keys()], ...service.metrics() }),
      async stop() {
        await service.stop();
        await Promise.all([...voices.values()].map((voice) => voice.close()));
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});
