import { checkVariable, defineWorker } from '@arc/runtime';
import { BrainService } from './brain-service.js';
import { BrainConfig } from './config.js';
import { createChatModel, localModelFile } from './model/index.js';
import { createCalculatorTool, createDateTimeTool, createUnitsTool, createWeatherTool, ToolRegistry } from './tools/index.js';
import { isZone } from './intents/places.js';

export const BRAIN_SERVICE = 'arc-sherlock-brain';

/** The brain worker: `runWorker(brainWorker)` in main.ts, `startWorker(brainWorker, { env })` in tests. */
export const brainWorker = defineWorker({
  service: BRAIN_SERVICE,
  config: BrainConfig,
  check(config) {
    if (!config.OPENAI_BASE_URL && !config.BRAIN_LOCAL_MODEL_PATH) checkVariable('BRAIN_LOCAL_MODEL', config.BRAIN_LOCAL_MODEL, () => localModelFile(config.BRAIN_LOCAL_MODEL));
    const zone = config.BRAIN_TIMEZONE;
    if (zone !== undefined) checkVariable('BRAIN_TIMEZONE', zone, () => {
      if (!isZone(zone)) throw new Error('not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)');
    });
  },
  // What changes without a restart (system.config.changed): the prompt, the fallback, the
  // answer length and the model endpoint; the next request uses them.
  live: ['BRAIN_SYSTEM_PROMPT', 'BRAIN_FALLBACK_RESPONSE', 'BRAIN_MAX_SENTENCES', 'BRAIN_MAX_WORDS', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'BRAIN_MODEL'],
  async start(ctx) {
    const { config, logger } = ctx;
    let model = await createChatModel(config);
    const directAnswers = () => config.BRAIN_DIRECT_ANSWERS === 'on' || (config.BRAIN_DIRECT_ANSWERS === 'auto' && config.OPENAI_BASE_URL === undefined);
    const tools = new ToolRegistry([
      createDateTimeTool(),
      createCalculatorTool(),
      createUnitsTool(),
      createWeatherTool({ forecastUrl: config.WEATHER_API_URL, geocodingUrl: config.WEATHER_GEOCODING_URL }),
    ]);
    const service = new BrainService({
      bus: ctx.bus,
      logger,
      model,
      tools,
      systemPrompt: config.BRAIN_SYSTEM_PROMPT,
      fallbackResponse: config.BRAIN_FALLBACK_RESPONSE,
      defaultTimeoutMs: config.BRAIN_DEFAULT_TIMEOUT_MS,
      defaultMaxTokens: config.BRAIN_DEFAULT_MAX_TOKENS,
      maxToolRounds: config.BRAIN_MAX_TOOL_ROUNDS,
      answerCap: { maxSentences: config.BRAIN_MAX_SENTENCES, maxWords: config.BRAIN_MAX_WORDS },
      directAnswers: directAnswers(),
      ...(config.BRAIN_TIMEZONE ? { defaultZone: config.BRAIN_TIMEZONE } : {}),
      queueGroup: config.BRAIN_QUEUE_GROUP,
      maxQueueMs: config.BRAIN_MAX_QUEUE_MS,
      reportError: (type, message, severity, extra) => ctx.reportError(type, message, severity, extra),
    });
    service.start();
    // "ready" means subscribed at the server: a request sent on seeing it is not lost
    await ctx.bus.flush();
    logger.info(
      { model: model.name, endpoint: config.OPENAI_BASE_URL ?? 'local llama.cpp', tools: model.supportsTools ? tools.specs().map((t) => t.name) : [] },
      'brain ready',
    );
    return {
      async stop() {
        await service.stop();
        await model.close();
      },
      async reconfigure(keys) {
        const endpoint = keys.some((key) => ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'BRAIN_MODEL'].includes(key));
        const previous = model;
        if (endpoint) model = await createChatModel(config);
        service.reconfigure({
          model,
          systemPrompt: config.BRAIN_SYSTEM_PROMPT,
          fallbackResponse: config.BRAIN_FALLBACK_RESPONSE,
          answerCap: { maxSentences: config.BRAIN_MAX_SENTENCES, maxWords: config.BRAIN_MAX_WORDS },
          directAnswers: directAnswers(),
        });
        if (endpoint) {
          logger.info({ model: model.name, endpoint: config.OPENAI_BASE_URL ?? 'local llama.cpp' }, 'model changed');
          void service.settled().then(() => previous.close());
        }
      },
      activeSessions: () => service.active,
      load: () => model.fullness?.() ?? 0,
      metrics: () => ({ models: [model.name] }),
    };
  },
});
