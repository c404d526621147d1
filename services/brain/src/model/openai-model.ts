import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { ModelCallError } from './errors.js';
import { withRetries, type RetryPolicy } from './retry.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, TokenUsage, ToolCall, ToolSpec } from './types.js';

export interface OpenAIChatModelOptions {
  /** e.g. https://api.openai.com/v1, http://localhost:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama) */
  readonly baseURL: string;
  /** local servers ignore it; the SDK insists on a non-empty string */
  readonly apiKey?: string;
  readonly model: string;
  readonly retry: RetryPolicy;
  /** some local servers reject the `tools` field; turn tools off for them */
  readonly supportsTools?: boolean;
  /** ask for token log-probabilities (for confidence_score); not every endpoint accepts it */
  readonly logprobs?: boolean;
}

/**
 * Any OpenAI-compatible chat completions endpoint, always streaming. The SDK's own retries are
 * off: retries happen here so they respect the request deadline and never repeat streamed text.
 */
export class OpenAIChatModel implements ChatModel {
  readonly name: string;
  readonly supportsTools: boolean;
  private readonly client: OpenAI;
  private readonly retry: RetryPolicy;
  private readonly logprobs: boolean;

  constructor(options: OpenAIChatModelOptions) {
    this.logprobs = options.logprobs ?? false;
    this.name = options.model;
    this.supportsTools = options.supportsTools ?? true;
    this.retry = options.retry;
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey || 'not-needed',
      maxRetries: 0,
      // the per-request deadline aborts the call; this only guards a missing signal
      timeout: 10 * 60_000,
      // the SDK would print malformed-stream details to the console; we report them ourselves
      logLevel: 'off',
    });
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    let streamedText = false;
    const { value, retries } = await withRetries(
      () =>
        this.completeOnce(request, () => {
          streamedText = true;
        }),
      {
        policy: this.retry,
        signal: request.signal,
        deadline: request.deadline ?? Number.POSITIVE_INFINITY,
        canRetry: () => !streamedText,
        ...(request.onRetry ? { onRetry: request.onRetry } : {}),
      },
    );
    return { ...value, retries };
  }

  async close(): Promise<void> {
    // the SDK holds no sockets open between calls that need closing
  }

  private async completeOnce(request: ChatRequest, onFirstText: () => void): Promise<Omit<ChatResult, 'retries'>> {
    const started = performance.now();
    let timeToFirstTokenMs: number | undefined;
    let text = '';
    let usage: TokenUsage | undefined;
    let model = this.name;
    const tokenLogprobs: number[] = [];
    // tool call fragments arrive keyed by index: id and name first, arguments in pieces
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    const useTools = this.supportsTools && request.tools !== undefined && request.tools.length > 0;
    try {
      const stream = await this.client.chat.completions.create(
        {
          model: this.name,
          messages: request.messages.map(toOpenAIMessage),
          ...(useTools ? { tools: request.tools!.map(toOpenAITool) } : {}),
          ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(this.logprobs ? { logprobs: true } : {}),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: request.signal },
      );
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        const choice = chunk.choices?.[0];
        for (const token of choice?.logprobs?.content ?? []) {
          if (Number.isFinite(token.logprob)) tokenLogprobs.push(token.logprob);
        }
        const delta = choice?.delta;
        if (!delta) continue;
        if (typeof delta.content === 'string' && delta.content.length > 0) {
          timeToFirstTokenMs ??= performance.now() - started;
          text += delta.content;
          onFirstText();
          request.onText(delta.content);
        }
        for (const part of delta.tool_calls ?? []) {
          timeToFirstTokenMs ??= performance.now() - started;
          const call = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
          if (part.id) call.id = part.id;
          if (part.function?.name) call.name += part.function.name;
          if (part.function?.arguments) call.arguments += part.function.arguments;
          calls.set(part.index, call);
        }
      }
      // the SDK ends an aborted stream quietly instead of throwing
      if (request.signal.aborted) throw new APIUserAbortError();
    } catch (error) {
      throw classifyOpenAIError(error, request.signal, this.name);
    }
    const toolCalls: ToolCall[] = [...calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ id: call.id || `call_${index}`, name: call.name, arguments: call.arguments }));
    return { text, toolCalls, usage, model, timeToFirstTokenMs, ...(tokenLogprobs.length > 0 ? { tokenLogprobs } : {}) };
  }
}

function toOpenAIMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'tool':
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId ?? '' };
    case 'assistant':
      if (message.toolCalls && message.toolCalls.length > 0) {
        return {
          role: 'assistant',
          content: message.content || null,
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        };
      }
      return { role: 'assistant', content: message.content };
  }
}

function toOpenAITool(tool: ToolSpec): ChatCompletionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } } };
}

/** Maps SDK and network failures onto the seed-002 error types, deciding what is worth a retry. */
export function classifyOpenAIError(error: unknown, signal: AbortSignal, model: string): ModelCallError {
  if (error instanceof ModelCallError) return error;
  if (signal.aborted || error instanceof APIUserAbortError) {
    return new ModelCallError('timeout', `model ${model}: call aborted at the request deadline`, { retryable: false, cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new ModelCallError('timeout', `model ${model}: HTTP call timed out`, { retryable: true, cause: error });
  }
  if (error instanceof APIConnectionError) {
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    return new ModelCallError('upstream_error', `model ${model}: connection failed (${reason})`, { retryable: true, cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status;
    const retryAfterMs = parseRetryAfter(error.headers);
    const detail = `model ${model}: endpoint answered ${status ?? 'an error'}: ${error.message}`;
    if (status === 429) return new ModelCallError('rate_limited', detail, { retryable: true, status, retryAfterMs, cause: error });
    if (status === undefined || status >= 500 || status === 408 || status === 409) {
      return new ModelCallError('upstream_error', detail, { retryable: true, ...(status ? { status } : {}), retryAfterMs, cause: error });
    }
    if (status === 400 || status === 422) return new ModelCallError('invalid_request', detail, { retryable: false, status, cause: error });
    return new ModelCallError('upstream_error', detail, { retryable: false, status, cause: error });
  }
  if (error instanceof SyntaxError) {
    return new ModelCallError('upstream_error', `model ${model}: malformed streaming response (${error.message})`, { retryable: true, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  // a stream cut mid-way (ECONNRESET, "terminated") surfaces as a plain TypeError from fetch
  return new ModelCallError('upstream_error', `model ${model}: stream failed (${message})`, { retryable: true, cause: error });
}

function parseRetryAfter(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const seconds = Number(headers.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return undefined;
}
