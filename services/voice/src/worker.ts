import { checkVariable, defineWorker } from '@arc/runtime';
import { SttEngines, VadEngines, speechSettings } from '@arc/speech';
import { VoiceConfig } from './config.js';
import { VoiceService } from './voice-service.js';
import { startWebhookServer } from './webhook.js';

export const VOICE_SERVICE = 'arc-scarlett-voice';

export const voiceWorker = defineWorker({
  service: VOICE_SERVICE,
  config: VoiceConfig,
  async start({ bus, config, logger, instanceId, service }) {
    const vadChoice = { engine: config.VOICE_VAD_ENGINE, model: config.VOICE_VAD_MODEL };
    const sttChoice = { engine: config.VOICE_STT_ENGINE, model: config.VOICE_STT_MODEL };
    checkVariable('VOICE_VAD_MODEL', config.VOICE_VAD_MODEL, () => VadEngines.check(vadChoice));
    checkVariable('VOICE_STT_MODEL', config.VOICE_STT_MODEL, () => SttEngines.check(sttChoice));
    const settings = speechSettings(config);
    const [vad, stt] = await Promise.all([VadEngines.create(vadChoice, settings), SttEngines.create(sttChoice, settings)]);
    const voice = new VoiceService({ bus, config, logger, vad, stt, instanceId, service });
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
    logger.info({ url: `${http.url}/livekit/webhook`, vad: vad.name, stt: stt.name }, 'voice worker ready: LiveKit webhooks go to this URL');
    return {
      activeSessions: () => voice.activeSessions,
      metrics: () => ({ models: [vad.name, stt.name], ...voice.metrics() }),
      async stop() {
        await voice.stop();
        await new Promise<void>((resolve) => http.server.close(() => resolve()));
        await Promise.all([vad.close(), stt.close()]);
        const { dispose } = await import('@livekit/rtc-node');
        await dispose();
      },
    };
  },
});
