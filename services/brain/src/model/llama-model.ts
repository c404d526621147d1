/**
 * The offline default: a small GGUF model (SmolLM2-135M-Instruct) run in-process with the
 * llama.cpp binding `node-llama-cpp`. Its prebuilt CPU binary ships in the npm package
 * `@node-llama-cpp/linux-x64`, so it loads without the package's postinstall script (which npm
 * 11 does not run unless approved) and without building anything.
 *
 * The context has BRAIN_LOCAL_SEQUENCES sequences: that many requests are generated at once
 * (llama.cpp batches their tokens in one evaluation), further ones wait for a free sequence and
 * still honour their own deadline. Measured on 2 cores (SmolLM2-135M, three questions at once,
 * 60 tokens): one sequence gave the first sentences at 0.3 / 0.8 / 1.3 s and all answers in 1.7 s;
 * three batched sequences at 0.9 / 1.3 / 1.5 s and 1.9 s. Batching splits the same two cores, so
 * the default is one. The model keeps recent figures (time to first token, whole
 * generation) so the brain can refuse at once a request that could not start in time.
 *
 * Tools use llama.cpp's grammar-constrained function calling (node-llama-cpp `functions`): when
 * the model starts a call, its arguments can only be JSON of the tool's schema. Generation
 * stops at the call, the graph runs the tool, and the next call continues the same model turn
 * with the result, as with an OpenAI-compatible endpoint. BRAIN_LOCAL_TOOLS turns it on.
 */
import type {
  ChatHistoryItem,
  ChatModelFunctionCall,
  ChatModelFunctions,
  ChatModelResponse,
  ChatWrapper,
  GbnfJsonSchema,
  Llama,
  LlamaChat as LlamaChatType,
  LlamaContext,
  LlamaContextSequence,
  LlamaModel,
} from 'node-llama-cpp';
import { ModelCallError, ModelUnavailableError } from './errors.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall, ToolSpec } from './types.js';

export interface LlamaChatModelOptions {
  readonly modelPath: string;
  /** reported as metadata.llm_model */
  readonly name: string;
  readonly contextSize?: number;
  /** CPU threads for generation; default: the cores llama.cpp detects, less one (more only oversubscribes) */
  readonly threads?: number;
  /** requests generated at once (context sequences) */
  readonly sequences?: number;
  /** offer tools to the model (grammar-constrained function calling) */
  readonly tools?: boolean;
}

/** Exponentially weighted mean: recent generations count most. */
class RecentMean {
  private value: number | undefined;
  constructor(private readonly weight = 0.3) {}
  add(sample: number): void {
    this.value = this.value === undefined ? sample : this.value + this.weight * (sample - this.value);
  }
  get(fallback: number): number {
    return this.value ?? fallback;
  }
}

export class LlamaChatModel implements ChatModel {
  readonly name: string;
  readonly supportsTools: boolean;
  private readonly free: LlamaContextSequence[];
  private readonly waiting: { take: (sequence: LlamaContextSequence) => void }[] = [];
  private running = 0;
  private readonly generationMs = new RecentMean();
  private readonly firstTokenMs = new RecentMean();

  private constructor(
    name: string,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequences: LlamaContextSequence[],
    private readonly ChatClass: typeof LlamaChatType,
    private readonly chatWrapper: ChatWrapper,
    tools: boolean,
  ) {
    this.name = name;
    this.supportsTools = tools;
    this.free = [...sequences];
  }

  /** Loads the binding and the weights; throws ModelUnavailableError saying what is missing. */
  static async load(options: LlamaChatModelOptions): Promise<LlamaChatModel> {
    let binding: typeof import('node-llama-cpp');
    try {
      binding = await import('node-llama-cpp');
    } catch (error) {
      throw new ModelUnavailableError(`the llama.cpp binding (npm package node-llama-cpp) is not installed: ${(error as Error).message}`, { cause: error });
    }
    let llama: Llama;
    try {
      // build: 'never' — compiling llama.cpp needs a source download this machine cannot do;
      // the prebuilt binary either loads or we say so
      llama = await binding.getLlama({ gpu: false, build: 'never', logLevel: binding.LlamaLogLevel.error, progressLogs: false });
    } catch (error) {
      throw new ModelUnavailableError(
        `no usable llama.cpp binary for ${process.platform}-${process.arch} (node-llama-cpp needs its prebuilt package @node-llama-cpp/${process.platform}-${process.arch}): ${(error as Error).message}`,
        { cause: error },
      );
    }
    try {
      const model = await llama.loadModel({ modelPath: options.modelPath });
      // One core is left to the voice pipeline (VAD, STT, TTS, media) that usually shares the machine:
      // measured on 2 cores, three users at once, the slowest first answer came 2.0 s after the
      // question with one generation thread, 3.5 s with two.
      const threads = options.threads ?? Math.max(1, llama.cpuMathCores - 1);
      const count = Math.max(1, options.sequences ?? 1);
      const context = await model.createContext({ contextSize: (options.contextSize ?? 2048) * count, sequences: count, threads });
      const sequences = Array.from({ length: count }, () => context.getSequence());
      // Resolving the chat template (jinja) blocks the event loop ~0.5 s: do it once here and
      // hand the result to every per-request session, or each turn would stall timers and NATS.
      const probe = new binding.LlamaChatSession({ contextSequence: sequences[0]!, autoDisposeSequence: false });
      const chatWrapper = probe.chatWrapper;
      probe.dispose({ disposeSequence: false });
      return new LlamaChatModel(options.name, llama, model, context, sequences, binding.LlamaChat, chatWrapper, options.tools ?? false);
    } catch (error) {
      await llama.dispose().catch(() => {});
      throw new ModelUnavailableError(`could not load the GGUF model ${options.modelPath}: ${(error as Error).message}`, { cause: error });
    }
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const sequence = await this.acquire();
    this.running++;
    try {
      return await this.generate(request, sequence);
    } finally {
      this.running--;
      this.release(sequence);
    }
  }

  expectedStart(ahead: number): { waitMs: number; firstTokenMs: number } {
    // Until it has figures of its own, a small model on a few cores: ~1 s per answer, 0.3 s to the first token.
    const rounds = Math.floor(ahead / this.sequences.length);
    return { waitMs: rounds * this.generationMs.get(1_000), firstTokenMs: this.firstTokenMs.get(300) };
  }

  fullness(): number {
    return Math.min(1, (this.running + this.waiting.length) / this.sequences.length);
  }

  async close(): Promise<void> {
    while (this.free.length < this.sequences.length) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  private acquire(): Promise<LlamaContextSequence> {
    const sequence = this.free.pop();
    if (sequence) return Promise.resolve(sequence);
    return new Promise((take) => this.waiting.push({ take }));
  }

  private release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next.take(sequence);
    else this.free.push(sequence);
  }

  private async generate(request: ChatRequest, sequence: LlamaContextSequence): Promise<ChatResult> {
    if (request.signal.aborted) throw timeoutError(this.name);
    const history = toLlamaHistory(request.messages);
    const functions = request.tools && request.tools.length > 0 ? toLlamaFunctions(request.tools) : undefined;
    const chat = new this.ChatClass({ contextSequence: sequence, autoDisposeSequence: false, chatWrapper: this.chatWrapper });
    const meterBefore = sequence.tokenMeter.getState();
    const started = performance.now();
    let timeToFirstTokenMs: number | undefined;
    let text = '';
    let toolCalls: ToolCall[] = [];
    try {
      const response = await chat.generateResponse(history, {
        ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        signal: request.signal,
        onTextChunk: (chunk: string) => {
          if (!chunk) return;
          timeToFirstTokenMs ??= performance.now() - started;
          text += chunk;
          request.onText(chunk);
        },
        ...(functions ? { functions, documentFunctionParams: true, maxParallelFunctionCalls: 1 } : {}),
      });
      toolCalls = (response.functionCalls ?? []).map((call, index) => ({
        id: `call-${index}-${call.functionName}`,
        name: call.functionName,
        arguments: JSON.stringify(call.params ?? {}),
      }));
      if (toolCalls.length > 0) timeToFirstTokenMs ??= performance.now() - started;
    } catch (error) {
      if (request.signal.aborted) throw timeoutError(this.name, error);
      throw new ModelCallError('upstream_error', `local model ${this.name} failed: ${(error as Error).message}`, { retryable: false, cause: error });
    } finally {
      chat.dispose({ disposeSequence: false });
    }
    this.generationMs.add(performance.now() - started);
    if (timeToFirstTokenMs !== undefined) this.firstTokenMs.add(timeToFirstTokenMs);
    const meterAfter = sequence.tokenMeter.getState();
    return {
      text,
      toolCalls,
      usage: {
        promptTokens: meterAfter.usedInputTokens - meterBefore.usedInputTokens,
        completionTokens: meterAfter.usedOutputTokens - meterBefore.usedOutputTokens,
      },
      model: this.name,
      timeToFirstTokenMs,
      retries: 0,
    };
  }
}

function timeoutError(name: string, cause?: unknown): ModelCallError {
  return new ModelCallError('timeout', `local model ${name}: generation aborted at the request deadline`, { retryable: false, cause });
}

/**
 * Chat messages as node-llama-cpp history, ending with the model turn to generate. An assistant
 * message that called tools becomes a model turn holding the calls with their results (the tool
 * messages after it); when the history ends there, generation continues that turn.
 */
export function toLlamaHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user':
        history.push({ type: 'user', text: message.content });
        break;
      case 'assistant': {
        const response: ChatModelResponse['response'] = message.content ? [message.content] : [];
        for (const call of message.toolCalls ?? []) {
          const result = messages.slice(i + 1).find((m) => m.role === 'tool' && m.toolCallId === call.id);
          response.push({ type: 'functionCall', name: call.name, params: parseArguments(call.arguments), result: result?.content ?? '' } satisfies ChatModelFunctionCall);
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool':
        // carried inside the model turn that called it (above)
        break;
    }
  }
  const last = messages.at(-1);
  const continuesToolTurn = last?.role === 'tool' || (last?.role === 'assistant' && (last.toolCalls?.length ?? 0) > 0);
  if (!continuesToolTurn) history.push({ type: 'model', response: [] });
  return history;
}

function parseArguments(text: string): unknown {
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return {};
  }
}

/** Tool specs as node-llama-cpp functions: the JSON Schema parts its grammar supports. */
export function toLlamaFunctions(tools: readonly ToolSpec[]): ChatModelFunctions {
  const functions: Record<string, { description: string; params: GbnfJsonSchema }> = {};
  for (const tool of tools) functions[tool.name] = { description: tool.description, params: toGbnf(tool.parameters) };
  return functions;
}

function toGbnf(schema: Readonly<Record<string, unknown>>): GbnfJsonSchema {
  const description = typeof schema['description'] === 'string' ? { description: schema['description'] } : {};
  if (Array.isArray(schema['enum'])) return { enum: schema['enum'] as string[], ...description } as GbnfJsonSchema;
  switch (schema['type']) {
    case 'object': {
      const properties: Record<string, GbnfJsonSchema> = {};
      for (const [key, value] of Object.entries((schema['properties'] ?? {}) as Record<string, Record<string, unknown>>)) properties[key] = toGbnf(value);
      return { type: 'object', properties, ...description } as GbnfJsonSchema;
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'string':
      return { type: schema['type'], ...description } as GbnfJsonSchema;
    default:
      return { type: 'string', ...description } as GbnfJsonSchema;
  }
}
