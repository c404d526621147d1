import { basename } from 'node:path';
import { getModel, loadManifest, ModelFileMissingError, resolveModelFile } from '@arc/models';
import type { CommonConfig } from '@arc/runtime';
import type { BrainConfig } from '../config.js';
import { ModelUnavailableError } from './errors.js';
import { LlamaChatModel } from './llama-model.js';
import { OpenAIChatModel } from './openai-model.js';
import type { ChatModel } from './types.js';

export type { ChatMessage, ChatModel, ChatRequest, ChatResult, TokenUsage, ToolCall, ToolSpec } from './types.js';
export { ModelCallError, ModelUnavailableError, type ModelFailureKind } from './errors.js';
export { OpenAIChatModel, classifyOpenAIError, type OpenAIChatModelOptions } from './openai-model.js';
export { LlamaChatModel, toLlamaHistory, type LlamaChatModelOptions } from './llama-model.js';
export { withRetries, backoffDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';

/** The offline default, chosen by npm run eval:brain (see the brain README). */
export const LOCAL_MODEL_ID = 'smollm2-135m-instruct';

/** The GGUF file of a llama.cpp model of the manifest; throws naming the ones there are. */
export function localModelFile(id: string): string {
  const manifest = loadManifest();
  const known = manifest.models.filter((m) => m.engine === 'llama.cpp').map((m) => m.id);
  if (!known.includes(id)) throw new Error(`not a local LLM of models/manifest.json (known: ${known.join(', ')})`);
  return getModel(id, manifest).files.find((f) => f.path.endsWith('.gguf'))!.path;
}
export const DEFAULT_REMOTE_MODEL = 'gpt-4o-mini';

/** Picks the model from config: the endpoint when OPENAI_BASE_URL is set, else the local GGUF. */
export async function createChatModel(config: BrainConfig & Pick<CommonConfig, 'ARC_MODELS_DIR'>): Promise<ChatModel> {
  if (config.OPENAI_BASE_URL) {
    return new OpenAIChatModel({
      baseURL: config.OPENAI_BASE_URL,
      ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
      model: config.BRAIN_MODEL ?? DEFAULT_REMOTE_MODEL,
      retry: { maxRetries: config.BRAIN_MAX_RETRIES, baseDelayMs: config.BRAIN_RETRY_BASE_MS, maxDelayMs: config.BRAIN_RETRY_MAX_MS },
      supportsTools: config.BRAIN_TOOLS,
      logprobs: config.BRAIN_LOGPROBS,
    });
  }
  let modelPath = config.BRAIN_LOCAL_MODEL_PATH;
  const localId = config.BRAIN_LOCAL_MODEL;
  if (!modelPath) {
    try {
      modelPath = resolveModelFile(localId, localModelFile(localId), undefined, config.ARC_MODELS_DIR);
    } catch (error) {
      if (error instanceof ModelFileMissingError) {
        throw new ModelUnavailableError(
          `OPENAI_BASE_URL is not set, so the brain would run the local model ${localId}, but its weights are missing ` +
            `(${error.message}). Run \`npm run models:fetch -- ${localId}\`, or set BRAIN_LOCAL_MODEL_PATH to a GGUF file, ` +
            `or set OPENAI_BASE_URL to an OpenAI-compatible endpoint.`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  try {
    return await LlamaChatModel.load({
      modelPath,
      name: config.BRAIN_MODEL ?? (config.BRAIN_LOCAL_MODEL_PATH ? basename(config.BRAIN_LOCAL_MODEL_PATH, '.gguf') : localId),
      ...(config.BRAIN_LOCAL_THREADS ? { threads: config.BRAIN_LOCAL_THREADS } : {}),
      sequences: config.BRAIN_LOCAL_SEQUENCES,
      tools: config.BRAIN_TOOLS && config.BRAIN_LOCAL_TOOLS,
    });
  } catch (error) {
    if (error instanceof ModelUnavailableError) {
      throw new ModelUnavailableError(`${error.message}. Set OPENAI_BASE_URL to an OpenAI-compatible endpoint instead.`, { cause: error });
    }
    throw error;
  }
}
