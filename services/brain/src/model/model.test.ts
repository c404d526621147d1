import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startScriptedOpenAIServer } from '@arc/testkit';
import { confidenceFrom } from '../graph.js';
import { ModelCallError } from './errors.js';
import { toLlamaFunctions, toLlamaHistory } from './llama-model.js';
import { OpenAIChatModel } from './openai-model.js';
import { backoffDelayMs, withRetries } from './retry.js';
import type { ChatRequest } from './types.js';

const noRetry = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 };

function request(overrides: Partial<ChatRequest> = {}): ChatRequest & { deltas: string[] } {
  const deltas: string[] = [];
  return { messages: [{ role: 'user', content: 'hi' }], signal: new AbortController().signal, onText: (d) => deltas.push(d), deltas, ...overrides };
}

test('backoff doubles from the base, is capped, and jitters within [50 %, 100 %]', () => {
  const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
  assert.deepEqual([0, 1, 2, 3, 4].map((r) => backoffDelayMs(policy, r, () => 1)), [100, 200, 400, 800, 1_000]);
  assert.equal(backoffDelayMs(policy, 2, () => 0), 200);
});

test('withRetries: retries retryable errors only, stops before the deadline, counts retries', async () => {
  const policy = { maxRetries: 5, baseDelayMs: 1, maxDelayMs: 1 };
  const signal = new AbortController().signal;
  const flaky = (failures: number, error: () => ModelCallError) => {
    let calls = 0;
    return async () => {
      if (calls++ < failures) throw error();
      return 'ok';
    };
  };
  const retryable = () => new ModelCallError('rate_limited', '429', { retryable: true, status: 429 });
  const seen: number[] = [];
  assert.deepEqual(
    await withRetries(flaky(2, retryable), { policy, signal, deadline: Infinity, canRetry: () => true, onRetry: (_e, n) => seen.push(n) }),
    { value: 'ok', retries: 2 },
  );
  assert.deepEqual(seen, [1, 2]);

  const fatal = () => new ModelCallError('invalid_request', '400', { retryable: false, status: 400 });
  await assert.rejects(withRetries(flaky(1, fatal), { policy, signal, deadline: Infinity, canRetry: () => true }), (e: ModelCallError) => e.retries === 0);
  await assert.rejects(withRetries(flaky(9, retryable), { policy, signal, deadline: Infinity, canRetry: () => true }), (e: ModelCallError) => e.retries === 5);
  await assert.rejects(withRetries(flaky(9, retryable), { policy, signal, deadline: Infinity, canRetry: () => false }), (e: ModelCallError) => e.retries === 0);
  const slow = { maxRetries: 5, baseDelayMs: 10_000, maxDelayMs: 10_000 };
  await assert.rejects(withRetries(flaky(9, retryable), { policy: slow, signal, deadline: performance.now() + 1_000, canRetry: () => true }), (e: ModelCallError) => e.retries === 0);
});

test('openai model: streams text, reports usage and model, offers tools', async () => {
  const server = await startScriptedOpenAIServer({ script: [{ type: 'text', text: ['Hello ', 'world.'], model: 'served-model' }] });
  try {
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'asked-model', retry: noRetry });
    const req = request({ tools: [{ name: 't', description: 'd', parameters: { type: 'object' } }], maxTokens: 7, temperature: 0 });
    const result = await model.complete(req);
    assert.equal(result.text, 'Hello world.');
    assert.deepEqual(req.deltas, ['Hello ', 'world.']);
    assert.equal(result.model, 'served-model');
    assert.deepEqual(result.usage, { promptTokens: 1, completionTokens: 2 });
    assert.ok(result.timeToFirstTokenMs !== undefined && result.timeToFirstTokenMs >= 0);
    const body = server.requests[0]!.body;
    assert.equal(body.model, 'asked-model');
    assert.equal(body.max_tokens, 7);
    assert.equal(body.temperature, 0);
    assert.deepEqual(body.tools, [{ type: 'function', function: { name: 't', description: 'd', parameters: { type: 'object' } } }]);
  } finally {
    await server.close();
  }
});

test('openai model: log-probabilities only when asked for; confidence is exp(mean)', async () => {
  const server = await startScriptedOpenAIServer({ fallback: { type: 'text', text: ['Sure. ', 'Yes.'], logprob: -0.2 } });
  try {
    const plain = await new OpenAIChatModel({ baseURL: server.url, model: 'm', retry: noRetry }).complete(request());
    assert.equal(plain.tokenLogprobs, undefined);
    assert.equal(server.requests[0]!.body['logprobs'], undefined);
    const asked = await new OpenAIChatModel({ baseURL: server.url, model: 'm', retry: noRetry, logprobs: true }).complete(request());
    assert.equal(server.requests[1]!.body['logprobs'], true);
    assert.deepEqual(asked.tokenLogprobs, [-0.2, -0.2]);
    assert.ok(Math.abs(confidenceFrom(asked.tokenLogprobs)! - Math.exp(-0.2)) < 1e-12);
    assert.equal(confidenceFrom([]), undefined);
  } finally {
    await server.close();
  }
});

test('openai model: assembles streamed tool calls; tools off → no tools field', async () => {
  const server = await startScriptedOpenAIServer({
    script: [
      { type: 'tool_calls', calls: [{ name: 'calculator', arguments: { expression: '1+1' } }, { name: 'current_datetime', arguments: '{}' }] },
      { type: 'text', text: 'x' },
    ],
  });
  try {
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'm', retry: noRetry });
    const tools = [{ name: 'calculator', description: 'd', parameters: {} }];
    const result = await model.complete(request({ tools }));
    assert.deepEqual(result.toolCalls, [
      { id: 'call_0_0', name: 'calculator', arguments: '{"expression":"1+1"}' },
      { id: 'call_0_1', name: 'current_datetime', arguments: '{}' },
    ]);
    assert.equal(result.text, '');
    const off = new OpenAIChatModel({ baseURL: server.url, model: 'm', retry: noRetry, supportsTools: false });
    await off.complete(request({ tools }));
    assert.equal(server.requests[1]!.body.tools, undefined);
  } finally {
    await server.close();
  }
});

test('openai model: classifies endpoint failures', async () => {
  const cases = [
    [{ type: 'status', status: 429 }, 'rate_limited', true],
    [{ type: 'status', status: 503 }, 'upstream_error', true],
    [{ type: 'status', status: 401 }, 'upstream_error', false],
    [{ type: 'status', status: 400 }, 'invalid_request', false],
    [{ type: 'malformed' }, 'upstream_error', true],
    [{ type: 'reset' }, 'upstream_error', true],
  ] as const;
  const server = await startScriptedOpenAIServer({ script: cases.map(([reply]) => reply) });
  try {
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'm', retry: noRetry });
    for (const [reply, kind, retryable] of cases) {
      await assert.rejects(model.complete(request()), (error: unknown) => {
        assert.ok(error instanceof ModelCallError, `${reply.type}: ${String(error)}`);
        assert.equal(error.kind, kind, `${JSON.stringify(reply)}: ${error.message}`);
        assert.equal(error.retryable, retryable, JSON.stringify(reply));
        return true;
      });
    }
  } finally {
    await server.close();
  }
});

test('openai model: an abort (the deadline) ends a hanging call as timeout', async () => {
  const server = await startScriptedOpenAIServer({ script: [{ type: 'hang' }] });
  try {
    const model = new OpenAIChatModel({ baseURL: server.url, model: 'm', retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 1 } });
    const started = performance.now();
    await assert.rejects(model.complete(request({ signal: AbortSignal.timeout(200) })), (error: ModelCallError) => error.kind === 'timeout' && !error.retryable);
    assert.ok(performance.now() - started < 1_000);
    assert.equal(server.requests.length, 1, 'no retry after the deadline');
  } finally {
    await server.close();
  }
});

test('llama history: every message in order, ending with the model turn to generate; tool calls carry their results', () => {
  assert.deepEqual(
    toLlamaHistory([
      { role: 'system', content: 's' },
      { role: 'user', content: 'u1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'u2' },
    ]),
    [{ type: 'system', text: 's' }, { type: 'user', text: 'u1' }, { type: 'model', response: ['a1'] }, { type: 'user', text: 'u2' }, { type: 'model', response: [] }],
  );
  // after a tool round the model continues the turn that called the tool
  assert.deepEqual(
    toLlamaHistory([
      { role: 'user', content: 'what is 6 times 7' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'calculator', arguments: '{"expression":"6*7"}' }] },
      { role: 'tool', content: '6*7 = 42', toolCallId: 'c1' },
    ]),
    [
      { type: 'user', text: 'what is 6 times 7' },
      { type: 'model', response: [{ type: 'functionCall', name: 'calculator', params: { expression: '6*7' }, result: '6*7 = 42' }] },
    ],
  );
  assert.deepEqual(toLlamaFunctions([{ name: 't', description: 'd', parameters: { type: 'object', properties: { zone: { type: 'string', description: 'z' } }, additionalProperties: false } }]), {
    t: { description: 'd', params: { type: 'object', properties: { zone: { type: 'string', description: 'z' } } } },
  });
});
