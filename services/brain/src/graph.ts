/**
 * The reasoning graph (LangGraph StateGraph) of one turn:
 *
 *   context ─→ START ─┬─ exact-answer question ─→ direct ─┬─ answered ─────────────────→ END
 *                     │                                    └─ tool could not ─┐
 *                     └──────────────────────────────────────────────────────┴→ model ─┬─ tool calls, rounds left ─→ tools → model (loop)
 *                                                                                      └─ answer text ─────────────→ answer → END
 *
 * `context` turns the request into chat messages (system prompt, profile, what the user said
 * about themselves, previous turns, user input). `direct` answers the questions with one exact
 * answer (time, date, weekday, arithmetic, unit conversion, the user's name) with the tool's
 * result phrased for speech: a small model distorts them ("12 * 12 = 120"), and a tool is
 * exact and instant. `model` streams one model call, its text going out sentence by sentence
 * while it streams, made speakable (no markdown or emoji) and capped to a voice-length answer:
 * at the cap the generation stops at a sentence boundary. `tools` runs the requested tools
 * (failures become tool messages); `answer` flushes the last sentence. `reasoning_steps` counts
 * these steps: 2 for a direct answer, 3 for a plain one, 5 with one tool round.
 *
 * Why context is not a graph node: every LangGraph superstep costs about 2 ms of CPU on these
 * machines (run trees, ids, channel bookkeeping), and a step before the model call delays the
 * first spoken sentence by that much — 40 % of the brain's 5 ms budget (bench:brain). Context is
 * pure data preparation with no branching, so it runs just before the graph, as its input.
 *
 * The graph is compiled once per worker; per-request things (abort signal, sentence sink,
 * constraints) travel in `configurable.turn`.
 */
// The `web` entry is the same LangGraph without installing an AsyncLocalStorage: on Node 20 that
// turns on promise hooks for the whole process, which cost ~1.5 ms per turn (bench:brain). The
// nodes get their config as an argument, so nothing here needs it.
import { Annotation, END, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph/web';
import { observeStage } from '@arc/runtime';
import type { ChatMessage, ChatModel, ChatResult, ToolCall } from './model/types.js';
import { CappedSentences, SentenceSplitter, cutRunaway, joinSentences, speakable, type AnswerCap } from './sentences.js';
import { describeFacts, directAnswer, factsFrom, recognise, type DirectAnswer } from './intents/index.js';
import type { ToolRegistry } from './tools/registry.js';

export interface PreviousTurn {
  readonly user: string;
  readonly agent: string;
  readonly interrupted?: boolean;
}

/** What one turn needs from the request, already validated. */
export interface TurnInput {
  readonly userInput: string;
  readonly previousTurns?: readonly PreviousTurn[];
  readonly userProfile?: Readonly<Record<string, unknown>>;
}

/** Per-request runtime handed to the nodes. */
export interface TurnRuntime {
  readonly signal: AbortSignal;
  /** performance.now() deadline */
  readonly deadline: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** called with each complete sentence, in order, as soon as it is known */
  readonly onSentence: (sentence: string) => void;
  /** called each time a model call is retried */
  readonly onRetry?: (error: Error, retry: number) => void;
  /** the most a spoken answer says; generation stops at the sentence that reaches it */
  readonly cap?: AnswerCap;
  /** the turn's trace: each model call and tool call becomes a span of it */
  readonly traceId?: string;
}

export interface TurnResult {
  /** the sentences joined: exactly what the partials concatenate to */
  readonly text: string;
  readonly sentences: readonly string[];
  readonly model: string;
  readonly tokensUsed: number;
  /** true when the endpoint reported usage for every call; false means tokensUsed is an estimate */
  readonly tokensExact: boolean;
  readonly reasoningSteps: number;
  readonly toolsCalled: readonly string[];
  readonly retries: number;
  readonly llmLatencyMs: number;
  readonly timeToFirstTokenMs: number | undefined;
  /**
   * geometric-mean token probability of the answer text (exp of the mean log-probability) when
   * the model reported log-probabilities; a rough "how sure was it", in [0, 1]
   */
  readonly confidence: number | undefined;
}

export interface BrainGraphOptions {
  readonly model: ChatModel;
  readonly tools: ToolRegistry;
  readonly systemPrompt: string;
  /** tool rounds before the model must answer without tools */
  readonly maxToolRounds: number;
  /** answer exact-answer questions with their tool, without the model */
  readonly directAnswers?: boolean;
  /** the zone of direct time answers when the user's profile names none (default UTC) */
  readonly defaultZone?: string;
  readonly now?: () => Date;
}

const sum = (a: number, b: number): number => a + b;

const TurnState = Annotation.Root({
  input: Annotation<TurnInput>(),
  messages: Annotation<ChatMessage[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  pendingToolCalls: Annotation<readonly ToolCall[]>({ reducer: (_a, b) => b, default: () => [] }),
  toolRounds: Annotation<number>({ reducer: sum, default: () => 0 }),
  toolsCalled: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  steps: Annotation<number>({ reducer: sum, default: () => 0 }),
  promptTokens: Annotation<number>({ reducer: sum, default: () => 0 }),
  completionTokens: Annotation<number>({ reducer: sum, default: () => 0 }),
  tokensExact: Annotation<boolean>({ reducer: (a, b) => a && b, default: () => true }),
  retries: Annotation<number>({ reducer: sum, default: () => 0 }),
  llmLatencyMs: Annotation<number>({ reducer: sum, default: () => 0 }),
  timeToFirstTokenMs: Annotation<number | undefined>({ reducer: (a, b) => a ?? b, default: () => undefined }),
  modelName: Annotation<string>({ reducer: (_a, b) => b, default: () => '' }),
  answerLogprobs: Annotation<readonly number[] | undefined>({ reducer: (_a, b) => b, default: () => undefined }),
  answeredDirectly: Annotation<boolean>({ reducer: (_a, b) => b, default: () => false }),
});
type State = typeof TurnState.State;
type Update = typeof TurnState.Update;

/** Per-request mutable bits the nodes share (kept out of graph state: they are not data). */
interface TurnScope {
  readonly runtime: TurnRuntime;
  readonly splitter: SentenceSplitter;
  readonly sentences: string[];
  readonly cap: CappedSentences | undefined;
  /** aborted when the answer reaches its cap: the model stops generating */
  readonly enough: AbortController;
}

/** One sentence of the answer: made speakable, held to the cap, then spoken. */
function say(scope: TurnScope, sentence: string): void {
  const text = speakable(sentence);
  if (text === '') return;
  if (scope.cap && !scope.cap.take(text)) {
    scope.enough.abort();
    return;
  }
  scope.sentences.push(text);
  scope.runtime.onSentence(text);
  if (scope.cap?.full) scope.enough.abort();
}

function scopeOf(config: LangGraphRunnableConfig): TurnScope {
  const scope = config.configurable?.['turn'] as TurnScope | undefined;
  if (!scope) throw new Error('brain graph invoked without configurable.turn');
  return scope;
}

/** Rough token count for endpoints that report no usage (about 4 characters per token in English). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function buildMessages(systemPrompt: string, input: TurnInput): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: systemPrompt }];
  if (input.userProfile && Object.keys(input.userProfile).length > 0) {
    messages.push({ role: 'system', content: `What is known about the user: ${JSON.stringify(input.userProfile)}` });
  }
  // small models lose a name said three turns ago; one plain line keeps it in view
  const facts = describeFacts(factsFrom(input.previousTurns ?? []));
  if (facts) messages.push({ role: 'system', content: facts });
  for (const turn of input.previousTurns ?? []) {
    messages.push({ role: 'user', content: turn.user });
    // the model should know the user did not hear the whole answer
    messages.push({ role: 'assistant', content: turn.interrupted ? `${turn.agent} [interrupted by the user]` : turn.agent });
  }
  messages.push({ role: 'user', content: input.userInput });
  return messages;
}

export class BrainGraph {
  private readonly options: BrainGraphOptions;
  private readonly compiled;

  constructor(options: BrainGraphOptions) {
    this.options = options;
    const { model, tools, maxToolRounds } = options;

    const modelNode = async (state: State, config: LangGraphRunnableConfig): Promise<Update> => {
      const scope = scopeOf(config);
      const { runtime, splitter } = scope;
      const offerTools = model.supportsTools && tools.size > 0 && state.toolRounds < maxToolRounds;
      const started = performance.now();
      const startedAt = Date.now();
      let streamed = '';
      let firstTextMs: number | undefined;
      let result: ChatResult;
      try {
        result = await model.complete({
          messages: state.messages,
          ...(offerTools ? { tools: tools.specs() } : {}),
          ...(runtime.maxTokens !== undefined ? { maxTokens: runtime.maxTokens } : {}),
          ...(runtime.temperature !== undefined ? { temperature: runtime.temperature } : {}),
          signal: AbortSignal.any([runtime.signal, scope.enough.signal]),
          deadline: runtime.deadline,
          ...(runtime.onRetry ? { onRetry: runtime.onRetry } : {}),
          onText: (delta) => {
            firstTextMs ??= performance.now() - started;
            streamed += delta;
            for (const sentence of splitter.push(delta)) say(scope, sentence);
            const runaway = runtime.cap && !scope.enough.signal.aborted ? cutRunaway(splitter.pending, runtime.cap.maxWords) : undefined;
            if (runaway) {
              say(scope, runaway);
              scope.enough.abort();
            }
          },
        });
      } catch (error) {
        // stopped at the cap: the answer is complete, not failed
        if (!scope.enough.signal.aborted || runtime.signal.aborted) throw error;
        result = { text: streamed, toolCalls: [], usage: undefined, model: model.name, timeToFirstTokenMs: firstTextMs, retries: 0 };
      }
      const promptText = state.messages.map((m) => m.content).join('\n');
      const llmMs = performance.now() - started;
      const call = { 'llm.model': result.model, 'llm.round': state.toolRounds, 'llm.tool_calls': result.toolCalls.length, 'llm.tools_offered': offerTools };
      observeStage('llm', llmMs, runtime.traceId, { startMs: startedAt, attributes: call });
      if (result.timeToFirstTokenMs !== undefined) observeStage('llm_first_token', result.timeToFirstTokenMs, runtime.traceId, { startMs: startedAt, attributes: call });
      return {
        messages: [{ role: 'assistant', content: result.text, ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls } : {}) }],
        pendingToolCalls: offerTools ? result.toolCalls : [],
        steps: 1,
        promptTokens: result.usage?.promptTokens ?? estimateTokens(promptText),
        completionTokens: result.usage?.completionTokens ?? estimateTokens(result.text),
        tokensExact: result.usage !== undefined,
        retries: result.retries,
        llmLatencyMs: llmMs,
        timeToFirstTokenMs: result.timeToFirstTokenMs,
        modelName: result.model,
        // the last model call writes the answer; earlier ones chose tools
        answerLogprobs: result.tokenLogprobs,
      };
    };

    const toolsNode = async (state: State, config: LangGraphRunnableConfig): Promise<Update> => {
      const { runtime } = scopeOf(config);
      const context = { signal: runtime.signal, userProfile: state.input.userProfile };
      const outcomes = await Promise.all(
        state.pendingToolCalls.map(async (call) => {
          const [started, startedAt] = [performance.now(), Date.now()];
          const outcome = await tools.invoke(call, context);
          observeStage('tool_call', performance.now() - started, runtime.traceId, { startMs: startedAt, attributes: { 'tool.name': outcome.name, 'tool.ok': outcome.ok } });
          return outcome;
        }),
      );
      return {
        messages: outcomes.map((outcome, i) => ({ role: 'tool' as const, content: outcome.content, toolCallId: state.pendingToolCalls[i]!.id })),
        toolsCalled: outcomes.map((outcome) => outcome.name),
        pendingToolCalls: [],
        toolRounds: 1,
        steps: 1,
      };
    };

    const answerNode = (_state: State, config: LangGraphRunnableConfig): Update => {
      const scope = scopeOf(config);
      // a sentence cut off by the cap is not spoken
      const rest = scope.splitter.flush();
      if (!scope.enough.signal.aborted) for (const sentence of rest) say(scope, sentence);
      return { steps: 1 };
    };

    const directNode = (state: State, config: LangGraphRunnableConfig): Update => {
      const scope = scopeOf(config);
      const answered: DirectAnswer | undefined = directAnswer(state.input.userInput, this.intentContext(state.input));
      if (!answered) return { steps: 1 };
      for (const sentence of answered.sentences) say(scope, sentence);
      return { steps: 1, toolsCalled: answered.tool ? [answered.tool] : [], answeredDirectly: true };
    };

    const graph = new StateGraph(TurnState)
      .addNode('model', modelNode)
      .addNode('tools', toolsNode)
      .addNode('answer', answerNode)
      .addConditionalEdges('model', (state: State) => (state.pendingToolCalls.length > 0 ? 'tools' : 'answer'), ['tools', 'answer'])
      .addEdge('tools', 'model')
      .addEdge('answer', END);
    // Without direct answers START leads straight to the model: a branch at START costs the
    // first sentence 1–3 ms of LangGraph bookkeeping (bench:brain) for nothing.
    this.compiled = options.directAnswers
      ? graph
          .addNode('direct', directNode)
          .addConditionalEdges(START, (state: State) => (recognise(state.input.userInput) ? 'direct' : 'model'), ['direct', 'model'])
          .addConditionalEdges('direct', (state: State) => (state.answeredDirectly ? END : 'model'), [END, 'model'])
          .compile()
      : graph.addEdge(START, 'model').compile();
  }

  /** Whether the turn is an exact-answer question the direct step takes (it needs no model then). */
  answersDirectly(input: TurnInput): boolean {
    return this.options.directAnswers === true && directAnswer(input.userInput, this.intentContext(input)) !== undefined;
  }

  private intentContext(input: TurnInput) {
    return {
      ...(input.previousTurns ? { previousTurns: input.previousTurns } : {}),
      ...(input.userProfile ? { userProfile: input.userProfile } : {}),
      ...(this.options.defaultZone ? { defaultZone: this.options.defaultZone } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
    };
  }

  /** Runs one turn. Rejects with the model's ModelCallError (or an abort) on failure. */
  async run(input: TurnInput, runtime: TurnRuntime): Promise<TurnResult> {
    const scope: TurnScope = {
      runtime,
      splitter: new SentenceSplitter(),
      sentences: [],
      cap: runtime.cap ? new CappedSentences(runtime.cap) : undefined,
      enough: new AbortController(),
    };
    // the context step (see the header comment)
    const messages = buildMessages(this.options.systemPrompt, input);
    const final = (await this.compiled.invoke(
      { input, messages, steps: 1 },
      {
        configurable: { turn: scope },
        signal: runtime.signal,
        // no checkpointer: skip per-step checkpoint bookkeeping (≈0.3 ms a turn)
        durability: 'exit',
        // direct + (model, tools) per round + the final model call + answer, with slack
        recursionLimit: 2 * this.options.maxToolRounds + 6,
      },
    )) as State;
    return {
      text: joinSentences(scope.sentences),
      sentences: scope.sentences,
      model: final.modelName || this.options.model.name,
      tokensUsed: final.promptTokens + final.completionTokens,
      tokensExact: final.tokensExact,
      reasoningSteps: final.steps,
      toolsCalled: final.toolsCalled,
      retries: final.retries,
      llmLatencyMs: final.llmLatencyMs,
      timeToFirstTokenMs: final.timeToFirstTokenMs,
      confidence: confidenceFrom(final.answerLogprobs),
    };
  }
}

export function confidenceFrom(logprobs: readonly number[] | undefined): number | undefined {
  if (!logprobs || logprobs.length === 0) return undefined;
  const mean = logprobs.reduce((a, b) => a + b, 0) / logprobs.length;
  return Math.min(1, Math.max(0, Math.exp(mean)));
}
