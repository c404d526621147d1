/**
 * Serves agent.brain.request: one turn in, sentences out on agent.brain.partial while the model
 * streams, then agent.brain.response — or agent.brain.error with a fallback the voice worker can
 * speak. Stateless: the conversation context arrives in the request, so any worker of the queue
 * group can answer any turn.
 */
import type { Bus, BusSubscription } from '@arc/bus';
import { MAX_TEXT_CHARS, Subjects, type BrainErrorType, type BrainRequest, type DeadLetter } from '@arc/contracts';
import { observeStage, type Logger } from '@arc/runtime';
import { BrainGraph, type TurnResult } from './graph.js';
import { asksForDetail, joinSentences, type AnswerCap } from './sentences.js';
import { ModelCallError } from './model/errors.js';
import type { ChatModel } from './model/types.js';
import type { ToolRegistry } from './tools/registry.js';

export interface BrainServiceOptions {
  readonly bus: Bus;
  readonly logger: Logger;
  readonly model: ChatModel;
  readonly tools: ToolRegistry;
  readonly systemPrompt: string;
  readonly fallbackResponse: string;
  readonly defaultTimeoutMs: number;
  readonly defaultMaxTokens: number;
  readonly maxToolRounds: number;
  /** a spoken answer's default length (constraints.max_sentences / max_words override) */
  readonly answerCap: AnswerCap;
  /** exact-answer questions are answered by their tool, without the model */
  readonly directAnswers: boolean;
  /** zone of direct time answers when the user profile names none */
  readonly defaultZone?: string;
  readonly queueGroup: string;
  /** a request that would wait longer than this for the model is refused at once (overloaded) */
  readonly maxQueueMs: number;
  /** publishes system.service.error (the runtime's reportError); internal errors go there too */
  readonly reportError?: (errorType: string, message: string, severity?: 'warning' | 'error' | 'critical', extra?: { trace_id?: string; subject?: string }) => void;
}

/** Why a turn ended without an answer. */
class TurnFailure extends Error {
  override readonly name = 'TurnFailure';
  constructor(
    readonly errorType: BrainErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEAD_LETTERED_REQUESTS = `dlq.${Subjects.brainRequest}.invalid_payload`;

/** What a live configuration change may replace while the service runs (the next request uses it). */
export type BrainSettings = Pick<BrainServiceOptions, 'model' | 'systemPrompt' | 'fallbackResponse' | 'answerCap' | 'directAnswers'>;

export class BrainService {
  private graph: BrainGraph;
  private options: BrainServiceOptions;
  private readonly subscriptions: BusSubscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** request id → how to stop it (agent.brain.cancel) */
  private readonly cancellers = new Map<string, (reason: string) => void>();
  private readonly counts = { answered: 0, failed: 0, cancelled: 0 };

  constructor(options: BrainServiceOptions) {
    this.options = options;
    this.graph = BrainService.graphOf(options);
  }

  private static graphOf(options: BrainServiceOptions): BrainGraph {
    return new BrainGraph({
      model: options.model,
      tools: options.tools,
      systemPrompt: options.systemPrompt,
      maxToolRounds: options.maxToolRounds,
      directAnswers: options.directAnswers,
      ...(options.defaultZone ? { defaultZone: options.defaultZone } : {}),
    });
  }

  /** New settings for the requests that arrive from now on; those being answered finish as they began. */
  reconfigure(settings: Partial<BrainSettings>): void {
    this.options = { ...this.options, ...settings };
    this.graph = BrainService.graphOf(this.options);
  }

  /** Resolves once the requests being answered now have finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  start(): void {
    const { bus, queueGroup } = this.options;
    this.subscriptions.push(
      bus.subscribe(Subjects.brainRequest, (request) => this.track(this.handle(request)), { queue: queueGroup }),
      // every worker hears a cancel; the one answering that request stops
      bus.subscribe(Subjects.brainCancel, (cancel) => this.cancellers.get(cancel.request_id)?.(cancel.reason ?? 'cancelled')),
      // The bus dead-letters requests that fail the schema (missing user_input, max_tokens -1, …)
      // before any handler sees them. One worker of the group turns each such dead letter into
      // agent.brain.error so the voice worker speaks a fallback instead of waiting for its timeout.
      bus.subscribe(DEAD_LETTERED_REQUESTS, (letter) => this.answerDeadLetter(letter as DeadLetter), {
        queue: `${queueGroup}-dlq`,
        deadLetter: false,
      }),
    );
  }

  /** Requests being answered right now (heartbeat active_sessions). */
  get active(): number {
    return this.inFlight.size;
  }

  get stats(): { answered: number; failed: number; cancelled: number } {
    return { ...this.counts };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.subscriptions.map((sub) => sub.unsubscribe()));
    await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  /** Answers one request; never throws (every failure becomes agent.brain.error). */
  async handle(request: BrainRequest): Promise<void> {
    const receivedAt = performance.now();
    const { bus, logger } = this.options;
    const log = logger.child({ request_id: request.request_id, trace_id: request.trace_id });
    const timeoutMs = request.constraints?.timeout_ms ?? this.options.defaultTimeoutMs;
    const controller = new AbortController();
    // the deadline counts from receipt: the request's timestamp comes from another machine's clock
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    // a cancel aborts the same way as the deadline: model call and tool calls stop at once
    let cancelledFor: string | undefined;
    let turn: Promise<TurnResult> | undefined;
    let cancelledAt = 0;
    this.cancellers.set(request.request_id, (reason) => {
      if (controller.signal.aborted) return;
      cancelledFor = reason;
      cancelledAt = performance.now();
      controller.abort();
    });
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new TurnFailure('timeout', `LLM request exceeded ${timeoutMs}ms timeout`)), { once: true });
    });
    timedOut.catch(() => {}); // only observed through the race below
    let retries = 0;
    let sequence = 0;
    // what was published as partials; the response repeats exactly this
    const spoken: string[] = [];
    let spokenChars = 0;
    let truncated = false;

    try {
      if (request.user_input.trim() === '') throw new TurnFailure('invalid_request', 'user_input is blank');
      const input = {
        userInput: request.user_input,
        ...(request.context?.previous_turns ? { previousTurns: request.context.previous_turns } : {}),
        ...(request.context?.user_profile ? { userProfile: request.context.user_profile } : {}),
      };
      // Refused at once rather than answered late: the voice worker speaks its fallback now.
      // A question the direct step answers needs no model, so it is never refused.
      const start = this.graph.answersDirectly(input) ? undefined : this.options.model.expectedStart?.(this.inFlight.size);
      if (start && start.waitMs + start.firstTokenMs >= timeoutMs) {
        throw new TurnFailure('overloaded', `the model could not start within the ${timeoutMs} ms deadline (expected ${Math.round(start.waitMs + start.firstTokenMs)} ms before the first token)`);
      }
      if (start && start.waitMs > this.options.maxQueueMs) {
        throw new TurnFailure('overloaded', `the model is busy: this request would wait ${Math.round(start.waitMs)} ms, over BRAIN_MAX_QUEUE_MS=${this.options.maxQueueMs}`);
      }
      const detail = asksForDetail(request.user_input) ? 4 : 1;
      turn = this.graph.run(
        input,
        {
          cap: {
            maxSentences: request.constraints?.max_sentences ?? this.options.answerCap.maxSentences * detail,
            maxWords: request.constraints?.max_words ?? this.options.answerCap.maxWords * detail,
          },
          signal: controller.signal,
          deadline: receivedAt + timeoutMs,
          ...(request.trace_id ? { traceId: request.trace_id } : {}),
          maxTokens: request.constraints?.max_tokens ?? this.options.defaultMaxTokens,
          ...(request.constraints?.temperature !== undefined ? { temperature: request.constraints.temperature } : {}),
          onSentence: (text) => {
            // a turn past its deadline has already been answered with the fallback
            if (controller.signal.aborted || truncated) return;
            // the bus refuses texts over MAX_TEXT_CHARS: a runaway answer ends at the last sentence that fits
            if (spokenChars + text.length + (spoken.length > 0 ? 1 : 0) > MAX_TEXT_CHARS) {
              truncated = true;
              log.warn({ max_chars: MAX_TEXT_CHARS }, 'answer too long for the bus: truncated at a sentence boundary');
              return;
            }
            try {
              bus.publish(Subjects.brainPartial, {
                request_id: request.request_id,
                trace_id: request.trace_id,
                session_id: request.session_id,
                ...(request.turn_index !== undefined ? { turn_index: request.turn_index } : {}),
                sequence,
                text,
              }, { owner: request.owner_instance });
              sequence++;
              spoken.push(text);
              spokenChars += text.length + (spoken.length > 1 ? 1 : 0);
            } catch (error) {
              // thrown into the model's stream loop it would be mistaken for a model failure; the
              // response repeats only what was published, so partials and response still agree
              log.error({ err: error, sequence }, 'could not publish agent.brain.partial');
            }
          },
          onRetry: (error, retry) => {
            retries = retry;
            log.warn({ retry, err: error.message }, 'retrying model call');
          },
        },
      );
      turn.catch(() => {}); // a turn abandoned at the deadline may still reject later
      const result: TurnResult = await Promise.race([turn, timedOut]);
      this.publishResponse(request, { ...result, text: joinSentences(spoken) }, receivedAt);
      this.counts.answered++;
    } catch (error) {
      if (cancelledFor !== undefined) {
        // the voice worker asked for this: nothing more is published for the request
        this.counts.cancelled++;
        await turn?.catch(() => {}); // the model and tools have stopped once the turn has settled
        log.info({ reason: cancelledFor, sentences_published: sequence, stopped_in_ms: round(performance.now() - cancelledAt) }, 'cancelled');
        return;
      }
      const failure = this.toFailure(error, controller.signal, timeoutMs);
      const retryCount = error instanceof ModelCallError ? Math.max(error.retries, retries) : retries;
      this.counts.failed++;
      if (failure.errorType === 'internal_error' && this.options.reportError) {
        this.options.reportError('brain_internal_error', failure.message, 'error', { trace_id: request.trace_id, subject: Subjects.brainRequest });
      } else {
        log.warn({ error_type: failure.errorType, retry_count: retryCount, err: failure.cause ?? failure }, failure.message);
      }
      this.publishError(request, failure, retryCount);
    } finally {
      clearTimeout(timer);
      this.cancellers.delete(request.request_id);
    }
  }

  private publishResponse(request: BrainRequest, result: TurnResult, receivedAt: number): void {
    const model = { 'llm.model': result.model, 'llm.tokens': result.tokensUsed, 'brain.tools': result.toolsCalled.join(',') };
    observeStage('brain_total', performance.now() - receivedAt, request.trace_id, { attributes: { 'arc.request_id': request.request_id, ...model } });
    this.options.bus.publish(Subjects.brainResponse, {
      request_id: request.request_id,
      trace_id: request.trace_id,
      session_id: request.session_id,
      ...(request.user_id !== undefined ? { user_id: request.user_id } : {}),
      ...(request.conversation_id !== undefined ? { conversation_id: request.conversation_id } : {}),
      ...(request.turn_index !== undefined ? { turn_index: request.turn_index } : {}),
      agent_response: result.text,
      metadata: {
        llm_model: result.model,
        tokens_used: result.tokensUsed,
        reasoning_steps: result.reasoningSteps,
        tools_called: [...result.toolsCalled],
        // only when the model reported token log-probabilities (BRAIN_LOGPROBS); never invented
        ...(result.confidence !== undefined ? { confidence_score: Math.round(result.confidence * 1000) / 1000 } : {}),
      },
      performance: {
        llm_latency_ms: round(result.llmLatencyMs),
        ...(result.timeToFirstTokenMs !== undefined ? { time_to_first_token_ms: round(result.timeToFirstTokenMs) } : {}),
        total_processing_ms: round(performance.now() - receivedAt),
      },
    }, { owner: request.owner_instance });
  }

  private publishError(request: { request_id: string; trace_id?: string; session_id?: string; owner_instance?: string }, failure: TurnFailure, retryCount: number): void {
    try {
      this.options.bus.publish(Subjects.brainError, {
        request_id: request.request_id,
        ...(request.trace_id !== undefined ? { trace_id: request.trace_id } : {}),
        ...(request.session_id !== undefined ? { session_id: request.session_id } : {}),
        error_type: failure.errorType,
        error_message: failure.message.slice(0, 4096),
        retry_count: retryCount,
        fallback_response: this.options.fallbackResponse,
      }, { owner: request.owner_instance });
    } catch (error) {
      this.options.logger.error({ err: error, request_id: request.request_id }, 'could not publish agent.brain.error');
    }
  }

  private toFailure(error: unknown, signal: AbortSignal, timeoutMs: number): TurnFailure {
    if (error instanceof TurnFailure) return error;
    if (signal.aborted) return new TurnFailure('timeout', `LLM request exceeded ${timeoutMs}ms timeout`, { cause: error });
    if (error instanceof ModelCallError) return new TurnFailure(error.kind, error.message, { cause: error });
    return new TurnFailure('internal_error', `brain failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  /** A request the bus rejected: answer it if it carries enough to be routed back. */
  private answerDeadLetter(letter: DeadLetter): void {
    let original: unknown;
    try {
      original = JSON.parse(Buffer.from(letter.original_payload_base64, 'base64').toString('utf8'));
    } catch {
      return; // not JSON: nothing identifies a requester to answer
    }
    const fields = (original ?? {}) as Record<string, unknown>;
    const requestId = validId(fields['request_id']);
    if (!requestId) return;
    const traceId = typeof fields['trace_id'] === 'string' && TRACE_ID.test(fields['trace_id']) ? fields['trace_id'] : undefined;
    const sessionId = validId(fields['session_id']);
    const owner = typeof fields['owner_instance'] === 'string' && OWNER_INSTANCE.test(fields['owner_instance']) ? fields['owner_instance'] : undefined;
    this.publishError(
      { request_id: requestId, ...(traceId ? { trace_id: traceId } : {}), ...(sessionId ? { session_id: sessionId } : {}), ...(owner ? { owner_instance: owner } : {}) },
      new TurnFailure('invalid_request', `invalid agent.brain.request: ${letter.reason}`),
      0,
    );
  }
}

const OWNER_INSTANCE = /^[A-Za-z0-9_-]{1,128}$/;
const TRACE_ID = /^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

function validId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
