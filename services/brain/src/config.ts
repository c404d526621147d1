import { Type, type Static } from '@arc/runtime';
import { LOCAL_MODEL_ID } from './model/index.js';

export const DEFAULT_SYSTEM_PROMPT =
  'You are ARC, a helpful voice assistant. Your answers are spoken aloud: reply in one to three short, ' +
  'natural sentences, with no markdown, lists, code or emoji. Use a tool when it gives a better answer ' +
  '(current time, arithmetic, weather).';

export const DEFAULT_FALLBACK_RESPONSE = "I'm having trouble processing that. Could you rephrase?";

/** Environment variables of the brain worker (the common ones — NATS_URL, … — are added by the runtime). */
export const BrainConfig = Type.Object({
  OPENAI_BASE_URL: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server); unset = the local model BRAIN_LOCAL_MODEL' }),
  ),
  OPENAI_API_KEY: Type.Optional(Type.String({ description: 'API key for OPENAI_BASE_URL (local servers ignore it)' })),
  BRAIN_MODEL: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'model name sent to the endpoint (default gpt-4o-mini); reported as llm_model (local default: the BRAIN_LOCAL_MODEL id)' }),
  ),
  BRAIN_TOOLS: Type.Boolean({ default: true, description: 'offer tools to the model (turn off for endpoints that reject the tools field)' }),
  BRAIN_LOGPROBS: Type.Boolean({
    default: false,
    description: 'ask the endpoint for token log-probabilities and report confidence_score (exp of their mean); some endpoints reject it',
  }),
  BRAIN_MAX_TOOL_ROUNDS: Type.Integer({ minimum: 0, maximum: 10, default: 3, description: 'tool rounds per turn before the model must answer' }),
  BRAIN_SYSTEM_PROMPT: Type.String({ minLength: 1, default: DEFAULT_SYSTEM_PROMPT, description: 'system prompt of every turn' }),
  BRAIN_FALLBACK_RESPONSE: Type.String({ minLength: 1, maxLength: 2000, default: DEFAULT_FALLBACK_RESPONSE, description: 'fallback_response of agent.brain.error' }),
  BRAIN_DEFAULT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000, description: 'deadline when a request has no constraints.timeout_ms' }),
  BRAIN_MAX_SENTENCES: Type.Integer({
    minimum: 1,
    maximum: 2000,
    default: 3,
    description: 'most sentences of a spoken answer (constraints.max_sentences overrides); four times as many when the user asks for detail',
  }),
  BRAIN_MAX_WORDS: Type.Integer({ minimum: 1, maximum: 20_000, default: 60, description: 'most words of a spoken answer (constraints.max_words overrides); generation stops at the sentence that reaches it' }),
  BRAIN_DIRECT_ANSWERS: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
    default: 'auto',
    description: 'answer time, date, weekday, arithmetic, unit conversion and "what is my name" with the tool itself, not the model; auto = on for the local model, off for OPENAI_BASE_URL (those models call the tools natively)',
  }),
  BRAIN_TIMEZONE: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone of direct time answers when the user profile gives none (default UTC)' })),
  BRAIN_DEFAULT_MAX_TOKENS: Type.Integer({ minimum: 1, maximum: 32_768, default: 512, description: 'max_tokens when a request has none' }),
  BRAIN_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 3, description: 'retries of a model call on 429/5xx/connection errors (within the deadline)' }),
  BRAIN_RETRY_BASE_MS: Type.Integer({ minimum: 1, maximum: 60_000, default: 100, description: 'first retry backoff; doubles per retry, with jitter' }),
  BRAIN_RETRY_MAX_MS: Type.Integer({ minimum: 1, maximum: 60_000, default: 2_000, description: 'cap on one retry backoff' }),
  BRAIN_QUEUE_GROUP: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'arc-sherlock-brain', description: 'NATS queue group shared by brain workers' }),
  BRAIN_LOCAL_MODEL: Type.String({
    minLength: 1,
    default: LOCAL_MODEL_ID,
    description: 'local LLM of models/manifest.json when OPENAI_BASE_URL is unset: smollm2-135m-instruct (default: smallest, fastest), qwen2.5-coder-1.5b-instruct (more general knowledge right, first sentence about 4x later; fetch it with npm run models:fetch -- qwen2.5-coder-1.5b-instruct)',
  }),
  BRAIN_LOCAL_MODEL_PATH: Type.Optional(Type.String({ minLength: 1, description: 'any GGUF file for the local model, instead of BRAIN_LOCAL_MODEL' })),
  BRAIN_LOCAL_SEQUENCES: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'requests the local model generates at once (llama.cpp batches them); more wait. On 2 cores one at a time gives the first sentences sooner' }),
  BRAIN_MAX_QUEUE_MS: Type.Integer({
    minimum: 0,
    maximum: 300_000,
    default: 1_000,
    description: 'a request that would wait longer than this for a busy local model is refused at once (agent.brain.error overloaded), so the user hears the fallback now instead of a late answer',
  }),
  BRAIN_LOCAL_TOOLS: Type.Boolean({
    default: false,
    description: 'offer the tools to the local model too (grammar-constrained function calling); off by default: the direct step already answers time, date, arithmetic and units exactly, and the tool descriptions slow every first sentence',
  }),
  BRAIN_LOCAL_THREADS: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'CPU threads of the local model (default: detected cores less one, at least one)' })),
  WEATHER_API_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Open-Meteo-compatible forecast API base, e.g. https://api.open-meteo.com' })),
  WEATHER_GEOCODING_URL: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'Open-Meteo-compatible geocoding API base, e.g. https://geocoding-api.open-meteo.com' }),
  ),
});
export type BrainConfig = Static<typeof BrainConfig>;
