import { defineWorker } from '@arc/runtime';
import { BrainService } from './brain-service.js';
import { BrainConfig } from './config.js';
import { createChatModel } from './model/index.js';
import { createCalculatorTool, createDateTimeTool, createWeatherTool, ToolRegistry } from './tools/index.js';

export const BRAIN_SERVICE = 'arc-sherlock-brain';

/** The brain worker: `runWorker(brainWorker)` in main.ts, `startWorker(brainWorker, { env })` in tests. */
export const brainWorker = defineWorker({
  service: BRAIN_SERVICE,
  config: BrainConfig,
  async start(ctx) {
    const { config, logger } = ctx;
    const model = await createChatModel(config);
    const tools = new ToolRegistry([
      createDateTimeTool(),
      createCalculatorTool(),
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
      queueGroup: config.BRAIN_QUEUE_GROUP,
      maxQueueMs: config.BRAIN_MAX_QUEUE_MS,
      reportError: (type, message, severity, extra) => ctx.reportError(type, message, severity, extra),
    });
    service.start();
    logger.info(
      { model: model.name, endpoint: config.OPENAI_BASE_URL ?? 'local llama.cpp', tools: model.supportsTools ? tools.specs().map((t) => t.name) : [] },
      'brain ready',
    );
    return {
      async stop() {
        await service.stop();
        await model.close();
      },
      activeSessions: () => service.active,
      load: () => model.fullness?.() ?? 0,
      metrics: () => ({ models: [model.name] }),
    };
  },
});
