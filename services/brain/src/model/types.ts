/**
 * The one interface every language model sits behind: a remote OpenAI-compatible endpoint
 * (OpenAI, vLLM, Ollama, llama.cpp server) or the local llama.cpp binding. The graph only ever
 * sees this, so swapping a model is a config change.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  /** id the model gave the call; the tool result message carries it back */
  readonly id: string;
  readonly name: string;
  /** raw JSON text of the arguments, as the model produced it (may be invalid JSON) */
  readonly arguments: string;
}

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** assistant messages that asked for tools */
  readonly toolCalls?: readonly ToolCall[];
  /** tool messages: which call this answers */
  readonly toolCallId?: string;
}

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object */
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  /** offered only when the model supports tool calling */
  readonly tools?: readonly ToolSpec[];
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** aborted at the request deadline; the model must stop its HTTP call / generation */
  readonly signal: AbortSignal;
  /** performance.now() value of that deadline: a retry that cannot finish its backoff by then is not started */
  readonly deadline?: number;
  /** receives answer text as it streams, in order, possibly in tiny pieces */
  readonly onText: (delta: string) => void;
  /** told about each retry as it is decided, so a later timeout can still report the count */
  readonly onRetry?: (error: Error, retry: number) => void;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface ChatResult {
  /** the full text this call produced (the concatenation of every onText delta) */
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  /** undefined when the endpoint does not report usage */
  readonly usage: TokenUsage | undefined;
  /** model name the endpoint reported (falls back to the configured one) */
  readonly model: string;
  /** call started → first streamed token (text or tool call); undefined if nothing streamed */
  readonly timeToFirstTokenMs: number | undefined;
  /** how many times the call was retried before this result */
  readonly retries: number;
  /** log-probabilities of the answer tokens, when the model was asked for them and gave them */
  readonly tokenLogprobs?: readonly number[];
}

export interface ChatModel {
  /** configured model name, reported as metadata.llm_model */
  readonly name: string;
  /** whether tools may be offered to this model */
  readonly supportsTools: boolean;
  complete(request: ChatRequest): Promise<ChatResult>;
  /**
   * How long a request asked now, with `ahead` requests already in flight, would wait before the
   * model starts on it, and then until its first token, by the model's own recent figures (ms).
   * Absent for models with no queue of their own (a remote endpoint serves requests as they come).
   */
  expectedStart?(ahead: number): { waitMs: number; firstTokenMs: number };
  /** requests being generated and waiting, against what the model runs at once (0–1, for load) */
  fullness?(): number;
  close(): Promise<void>;
}
