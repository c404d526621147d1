/**
 * TEST SERVER — a stand-in for a paid remote OpenAI-compatible API (OpenAI, vLLM, Ollama, …).
 *
 * It is the only fake in the brain tests: real HTTP on a loopback port, real SSE streaming of
 * `chat.completion.chunk` objects, answering from a script instead of a language model. It can
 * play plain answers, tool calls, a slow first token, rate limits (429), server errors (5xx),
 * malformed JSON, a hang, and a connection reset. Never use it outside tests and benchmarks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ScriptedReply =
  | {
      readonly type: 'text';
      /** a string is streamed word by word; an array is streamed chunk by chunk as given */
      readonly text: string | readonly string[];
      readonly firstTokenDelayMs?: number;
      readonly chunkDelayMs?: number;
      readonly model?: string;
      /** log-probability reported for every chunk when the request asks for `logprobs` (default -0.1) */
      readonly logprob?: number;
    }
  | {
      readonly type: 'tool_calls';
      readonly calls: readonly { readonly name: string; readonly arguments: string | Record<string, unknown> }[];
      readonly firstTokenDelayMs?: number;
    }
  /** an HTTP error status with an OpenAI-style error body */
  | { readonly type: 'status'; readonly status: number; readonly message?: string; readonly retryAfterSeconds?: number }
  /** a 200 SSE stream whose first event is not JSON */
  | { readonly type: 'malformed' }
  /** a 200 with headers sent, then silence until the client disconnects */
  | { readonly type: 'hang' }
  /** the TCP connection is destroyed before any response byte */
  | { readonly type: 'reset' };

export interface ScriptedRequest {
  /** 0-based order of arrival */
  readonly index: number;
  /** the parsed chat.completions request body */
  readonly body: ChatCompletionRequestBody;
  /** content of the last user message ('' when none) */
  readonly lastUserMessage: string;
  /** performance.now() when the request body was read */
  readonly receivedAt: number;
  /** performance.now() right after the first content/tool chunk was handed to the socket; undefined if none */
  firstTokenAt: number | undefined;
  /** the reply the script chose */
  reply: ScriptedReply | undefined;
  /** performance.now() when the client closed the connection before the reply ended (an abort) */
  abortedAt: number | undefined;
}

export interface ChatCompletionRequestBody {
  readonly model?: string;
  readonly messages?: readonly { readonly role: string; readonly content?: string | null; readonly tool_call_id?: string }[];
  readonly tools?: readonly unknown[];
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly stream?: boolean;
  readonly [key: string]: unknown;
}

/** Either replies played in order (then `fallback`), or a function choosing per request. */
export type Script = readonly ScriptedReply[] | ((request: ScriptedRequest) => ScriptedReply);

export interface ScriptedOpenAIServerOptions {
  readonly script?: Script;
  /** reply once an array script is used up; default: an echo of the last user message */
  readonly fallback?: ScriptedReply | ((request: ScriptedRequest) => ScriptedReply);
  /** the address to listen on (default 127.0.0.1) */
  readonly host?: string;
}

export interface ScriptedOpenAIServer {
  /** base URL to give the openai SDK / OPENAI_BASE_URL, ending in /v1 */
  readonly url: string;
  readonly port: number;
  /** every chat completion request received, in order */
  readonly requests: ScriptedRequest[];
  /** replace the script (and reset the array position) */
  setScript(script: Script): void;
  close(): Promise<void>;
}

export const echoReply = (request: ScriptedRequest): ScriptedReply => ({
  type: 'text',
  text: `You said: ${request.lastUserMessage}.`,
});

export async function startScriptedOpenAIServer(options: ScriptedOpenAIServerOptions = {}): Promise<ScriptedOpenAIServer> {
  let script: Script = options.script ?? [];
  let position = 0;
  const fallback = options.fallback ?? echoReply;
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<Socket>();

  const choose = (request: ScriptedRequest): ScriptedReply => {
    if (typeof script === 'function') return script(request);
    const next = script[position];
    if (next !== undefined) {
      position++;
      return next;
    }
    return typeof fallback === 'function' ? fallback(request) : fallback;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted server failed: ${String(error)}`, type: 'server_error' } }));
    });
  });
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || !path?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }));
      return;
    }
    const raw = await readBody(req);
    let body: ChatCompletionRequestBody;
    try {
      body = JSON.parse(raw) as ChatCompletionRequestBody;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'request body is not JSON', type: 'invalid_request_error' } }));
      return;
    }
    const userMessages = (body.messages ?? []).filter((m) => m.role === 'user');
    const request: ScriptedRequest = {
      index: requests.length,
      body,
      lastUserMessage: userMessages.at(-1)?.content ?? '',
      receivedAt: performance.now(),
      firstTokenAt: undefined,
      abortedAt: undefined,
      reply: undefined,
    };
    requests.push(request);
    const reply = choose(request);
    request.reply = reply;
    await play(reply, request, req, res);
  }

  async function play(reply: ScriptedReply, request: ScriptedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = `chatcmpl-scripted-${request.index}`;
    const model = (reply.type === 'text' ? reply.model : undefined) ?? request.body.model ?? 'scripted-model';
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, logprobs?: unknown) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, ...(logprobs ? { logprobs } : {}) }] })}\n\n`;
    const wantsLogprobs = request.body['logprobs'] === true;
    // (req.destroyed is no signal: a fully read request body is auto-destroyed)
    let clientGone = false;
    res.on('close', () => {
      clientGone = true;
      if (!res.writableEnded) request.abortedAt ??= performance.now();
    });
    const closed = () => clientGone || res.destroyed || res.writableEnded;

    switch (reply.type) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
        res.writeHead(reply.status, headers);
        res.end(
          JSON.stringify({
            error: {
              message: reply.message ?? `scripted status ${reply.status}`,
              type: reply.status === 429 ? 'rate_limit_exceeded' : 'server_error',
            },
          }),
        );
        return;
      }
      case 'hang':
        startStream(res);
        // nothing more: the client's deadline must abort; close() destroys the socket
        return;
      case 'malformed':
        startStream(res);
        res.end('data: {"id": "broken", "choices": [ this is not json\n\n');
        return;
      case 'text': {
        startStream(res);
        if (reply.firstTokenDelayMs) await delay(reply.firstTokenDelayMs);
        const pieces = typeof reply.text === 'string' ? splitWords(reply.text) : reply.text;
        res.write(chunk({ role: 'assistant', content: '' }));
        for (const [i, piece] of pieces.entries()) {
          if (closed()) return;
          if (i > 0 && reply.chunkDelayMs) await delay(reply.chunkDelayMs);
          if (closed()) return;
          const logprobs = wantsLogprobs ? { content: [{ token: piece, logprob: reply.logprob ?? -0.1, bytes: null, top_logprobs: [] }], refusal: null } : undefined;
          res.write(chunk({ content: piece }, null, logprobs));
          request.firstTokenAt ??= performance.now();
        }
        finish(res, chunk({}, 'stop'), request, pieces.length, id, model, created);
        return;
      }
      case 'tool_calls': {
        startStream(res);
        if (reply.firstTokenDelayMs) await delay(reply.firstTokenDelayMs);
        if (closed()) return;
        request.firstTokenAt = performance.now();
        res.write(chunk({ role: 'assistant', content: null }));
        for (const [index, call] of reply.calls.entries()) {
          const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
          // name first, arguments split in two pieces, as real endpoints stream them
          res.write(chunk({ tool_calls: [{ index, id: `call_${request.index}_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }));
          const half = Math.floor(args.length / 2);
          res.write(chunk({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] }));
          res.write(chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
        }
        finish(res, chunk({}, 'tool_calls'), request, reply.calls.length * 8, id, model, created);
        return;
      }
    }
  }

  function finish(res: ServerResponse, last: string, request: ScriptedRequest, completionTokens: number, id: string, model: string, created: number): void {
    res.write(last);
    const includeUsage = (request.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (includeUsage) {
      const promptTokens = (request.body.messages ?? []).reduce((n, m) => n + countWords(m.content ?? ''), 0);
      const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/v1`,
    port,
    requests,
    setScript(next) {
      script = next;
      position = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
}

function splitWords(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
