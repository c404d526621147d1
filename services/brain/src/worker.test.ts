/**
 * The brain worker end to end in one process: a real nats-server, the worker started through
 * the runtime exactly as main.ts does, and the scripted OpenAI-compatible server as the model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, type RunningWorker } from '@arc/runtime';
import { startNatsServer, silentLogger, waitFor, type NatsServerHandle } from '@arc/testkit';
import { brainWorker } from './worker.js';
import { DEFAULT_SYSTEM_PROMPT } from './config.js';
import { startScriptedOpenAIServer, type ScriptedOpenAIServer, type ScriptedReply } from '@arc/testkit';
import { BrainClient, brainRequest, scriptByInput } from './test-support.js';

const FALLBACK = 'Sorry, I lost my train of thought. Could you say that again?';

const replies: Record<string, ScriptedReply | ScriptedReply[]> = {
  'What is the weather like today?': {
    type: 'text',
    text: ['It is ', 'sunny and 20 degrees', ' in San Francisco. ', 'Perfect for ', 'a walk! Enjoy', ' it.'],
    chunkDelayMs: 5,
  },
  'Keep talking.': { type: 'text', text: Array.from({ length: 80 }, (_, i) => `Sentence ${i}. `), chunkDelayMs: 50 },
  'Tell me about Paris.': {
    type: 'text',
    text: ['## Paris\n', '**Paris** is the capital 🇫🇷 of France. ', '- It has the Louvre 😀. ', 'It is on the Seine. ', 'It has many cafés. ', 'It never ends.'],
    chunkDelayMs: 5,
  },
  'What is 6 times 7?': [
    { type: 'tool_calls', calls: [{ name: 'calculator', arguments: { expression: '6 * 7' } }] },
    { type: 'text', text: 'Six times seven is 42.' },
  ],
  'Weather and a bad tool please.': [
    {
      type: 'tool_calls',
      calls: [
        { name: 'weather_api', arguments: { location: 'Paris' } },
        { name: 'no_such_tool', arguments: {} },
        { name: 'calculator', arguments: '{not json' },
      ],
    },
    { type: 'text', text: 'I cannot check the weather right now.' },
  ],
  'Answer slowly.': { type: 'text', text: 'Here I am. Finally.', firstTokenDelayMs: 400 },
  'Hang forever.': { type: 'hang' },
  'Too slow.': { type: 'text', text: 'Too late.', firstTokenDelayMs: 5_000 },
  'Rate limited once.': [{ type: 'status', status: 429, retryAfterSeconds: 0 }, { type: 'text', text: 'Got there.' }],
  'Always broken.': { type: 'status', status: 500 },
  'Malformed once.': [{ type: 'malformed' }, { type: 'text', text: 'Recovered from garbage.' }],
  'Always malformed.': { type: 'malformed' },
  'Reset once.': [{ type: 'reset' }, { type: 'text', text: 'Reconnected.' }],
  'Bad request.': { type: 'status', status: 400, message: 'context length exceeded' },
  'Talk forever.': { type: 'text', text: 'This sentence has exactly forty-four chars. '.repeat(600) },
  'Loop tools forever.': { type: 'tool_calls', calls: [{ name: 'current_datetime', arguments: {} }] },
};

describe('brain worker', () => {
  let nats: NatsServerHandle;
  let llm: ScriptedOpenAIServer;
  let worker: RunningWorker<unknown>;
  let client: BrainClient;

  before(async () => {
    nats = await startNatsServer();
    llm = await startScriptedOpenAIServer({ script: scriptByInput(replies) });
    worker = (await startWorker(brainWorker, {
      env: {
        NATS_URL: nats.url,
        OPENAI_BASE_URL: llm.url,
        OPENAI_API_KEY: 'test-key',
        BRAIN_MODEL: 'scripted-gpt',
        BRAIN_FALLBACK_RESPONSE: FALLBACK,
        BRAIN_RETRY_BASE_MS: '20',
        BRAIN_MAX_RETRIES: '3',
        BRAIN_MAX_TOOL_ROUNDS: '2',
        MESSAGE_TTL_MS: '60000',
        LOG_LEVEL: 'silent',
      },
      logger: silentLogger,
    })) as RunningWorker<unknown>;
    client = await BrainClient.connect(nats.url);
  });

  after(async () => {
    await client?.close();
    await worker?.shutdown('test over');
    await llm?.close();
    await nats?.stop();
  });

  test('answers with every seed-002 field, streaming sentences in order first', async () => {
    const request = brainRequest('What is the weather like today?', {
      context: {
        previous_turns: [
          { user: 'Hello', agent: 'Hi! How can I help?' },
          { user: "I'm planning a trip", agent: 'Where are you', interrupted: true },
        ],
        user_profile: { location: 'San Francisco, CA', preferences: ['outdoor_activities'] },
      },
      constraints: { max_tokens: 150, temperature: 0.7, timeout_ms: 5_000 },
    });
    const { partials, response, error } = await client.ask(request);
    assert.equal(error, undefined);
    assert.ok(response, 'a response arrives');

    // identity fields are carried back unchanged
    for (const field of ['request_id', 'trace_id', 'user_id', 'session_id', 'conversation_id', 'turn_index'] as const) {
      assert.equal(response[field], request[field], field);
    }
    assert.ok(!Number.isNaN(Date.parse(response.timestamp)), 'timestamp is ISO-8601');
    assert.equal(response.agent_response, 'It is sunny and 20 degrees in San Francisco. Perfect for a walk! Enjoy it.');

    // metadata
    assert.equal(response.metadata.llm_model, 'scripted-gpt');
    const modelCall = llm.requests.find((r) => r.lastUserMessage === request.user_input)!;
    const promptWords = modelCall.body.messages!.reduce((n, m) => n + (m.content ?? '').split(/\s+/).filter(Boolean).length, 0);
    assert.equal(response.metadata.tokens_used, promptWords + 6, 'tokens_used is the usage the endpoint reported');
    assert.equal(response.metadata.reasoning_steps, 3, 'context → model → answer');
    assert.deepEqual(response.metadata.tools_called, []);
    assert.equal(response.metadata.confidence_score, undefined, 'no confidence is invented');

    // performance
    const perf = response.performance;
    assert.ok(perf.llm_latency_ms > 0 && perf.total_processing_ms >= perf.llm_latency_ms, JSON.stringify(perf));
    assert.ok(perf.time_to_first_token_ms >= 0 && perf.time_to_first_token_ms <= perf.llm_latency_ms, JSON.stringify(perf));

    // partials: in order, one sentence each, concatenating to the final text, before the response
    assert.deepEqual(
      partials.map((p) => p.sequence),
      partials.map((_, i) => i),
    );
    assert.deepEqual(
      partials.map((p) => p.text),
      ['It is sunny and 20 degrees in San Francisco.', 'Perfect for a walk!', 'Enjoy it.'],
    );
    assert.equal(partials.map((p) => p.text).join(' '), response.agent_response);
    for (const p of partials) {
      assert.equal(p.trace_id, request.trace_id);
      assert.equal(p.session_id, request.session_id);
      assert.equal(p.turn_index, request.turn_index);
    }
    const order = client.forRequest(request.request_id).map((m) => m.subject);
    assert.deepEqual(order, ['agent.brain.request', 'agent.brain.partial', 'agent.brain.partial', 'agent.brain.partial', 'agent.brain.response']);

    // what the model was sent: system prompt, profile, history (interruption marked), constraints
    const body = modelCall.body;
    assert.equal(body.model, 'scripted-gpt');
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 150);
    assert.equal(body.temperature, 0.7);
    assert.deepEqual(
      body.messages!.map((m) => m.role),
      ['system', 'system', 'user', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.equal(body.messages![0]!.content, DEFAULT_SYSTEM_PROMPT);
    assert.match(body.messages![1]!.content!, /San Francisco, CA/);
    assert.equal(body.messages![5]!.content, 'Where are you [interrupted by the user]');
    assert.equal(body.messages![6]!.content, request.user_input);
    assert.deepEqual(
      (body.tools as { function: { name: string } }[]).map((t) => t.function.name).sort(),
      ['calculator', 'convert_units', 'current_datetime', 'weather_api'],
    );
  });

  test('runs a tool call and feeds the result back to the model', async () => {
    const { response, partials } = await client.ask(brainRequest('What is 6 times 7?'));
    assert.ok(response);
    assert.equal(response.agent_response, 'Six times seven is 42.');
    assert.deepEqual(response.metadata.tools_called, ['calculator']);
    assert.equal(response.metadata.reasoning_steps, 5, 'context → model → tools → model → answer');
    assert.deepEqual(partials.map((p) => p.text), ['Six times seven is 42.']);
    const second = llm.requests.filter((r) => r.lastUserMessage === 'What is 6 times 7?')[1]!;
    const toolMessage = second.body.messages!.find((m) => m.role === 'tool')!;
    assert.equal(toolMessage.content, '6 * 7 = 42');
    assert.match(toolMessage.tool_call_id!, /^call_/);
  });

  test('failing, unknown and malformed tool calls become tool messages, not crashes', async () => {
    const { response } = await client.ask(brainRequest('Weather and a bad tool please.'));
    assert.ok(response);
    assert.equal(response.agent_response, 'I cannot check the weather right now.');
    assert.deepEqual(response.metadata.tools_called, ['weather_api', 'no_such_tool', 'calculator']);
    const second = llm.requests.filter((r) => r.lastUserMessage === 'Weather and a bad tool please.')[1]!;
    const toolResults = second.body.messages!.filter((m) => m.role === 'tool').map((m) => m.content);
    assert.match(toolResults[0]!, /^error: weather is not available: no weather service is configured \(set WEATHER_API_URL/);
    assert.match(toolResults[1]!, /^error: there is no tool named "no_such_tool"/);
    assert.match(toolResults[2]!, /^error: the arguments for calculator are not valid JSON/);
  });

  test('stops offering tools after BRAIN_MAX_TOOL_ROUNDS so a tool loop ends', async () => {
    const { response, error } = await client.ask(brainRequest('Loop tools forever.'));
    // the scripted model keeps asking for tools; once tools are withdrawn its tool calls are ignored
    assert.equal(error, undefined);
    assert.ok(response);
    assert.deepEqual(response.metadata.tools_called, ['current_datetime', 'current_datetime']);
    const calls = llm.requests.filter((r) => r.lastUserMessage === 'Loop tools forever.');
    assert.equal(calls.length, 3);
    assert.equal(calls[2]!.body.tools, undefined, 'the last call offers no tools');
  });

  test('a spoken answer: no markdown or emoji, at most BRAIN_MAX_SENTENCES sentences unless the request allows more', async () => {
    const short = await client.ask(brainRequest('Tell me about Paris.'));
    assert.deepEqual(
      short.partials.map((p) => p.text),
      ['Paris', 'Paris is the capital of France.', 'It has the Louvre.'],
    );
    assert.equal(short.response.agent_response, 'Paris Paris is the capital of France. It has the Louvre.');
    const longer = await client.ask(brainRequest('Tell me about Paris.', { constraints: { max_sentences: 5 } }));
    assert.equal(longer.partials.length, 5);
    const fewWords = await client.ask(brainRequest('Tell me about Paris.', { constraints: { max_words: 8 } }));
    assert.deepEqual(fewWords.partials.map((p) => p.text), ['Paris', 'Paris is the capital of France.']);
  });

  test('agent.brain.cancel (barge-in): the model call is aborted at once and nothing more is published for the request', async () => {
    const request = brainRequest('Keep talking.', { constraints: { max_sentences: 100, max_words: 1000 } });
    client.bus.publish('agent.brain.request', request);
    await waitFor(() => client.forRequest(request.request_id).some((m) => m.subject === 'agent.brain.partial'), 5_000, 'the first sentence');
    const cancelledAt = performance.now();
    client.bus.publish('agent.brain.cancel', { request_id: request.request_id, session_id: request.session_id, reason: 'barge_in' });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const call = llm.requests.find((r) => r.lastUserMessage === 'Keep talking.');
    assert.ok(call, `model calls: ${llm.requests.map((r) => r.lastUserMessage).join(' | ')}; got ${JSON.stringify(client.forRequest(request.request_id)[0])}`);
    assert.ok(call.abortedAt !== undefined, 'the HTTP stream to the model was closed');
    const stoppedMs = call.abortedAt - cancelledAt;
    console.log(`model call aborted ${stoppedMs.toFixed(1)} ms after the cancel was published`);
    assert.ok(stoppedMs < 500, `aborted ${stoppedMs.toFixed(0)} ms after the cancel`);
    const after = client.forRequest(request.request_id);
    assert.ok(!after.some((m) => m.subject === 'agent.brain.response' || m.subject === 'agent.brain.error'), `no response or error: ${after.map((m) => m.subject).join(', ')}`);
    const sentences = after.filter((m) => m.subject === 'agent.brain.partial').length;
    assert.ok(sentences < 10, `${sentences} sentences, not 80`);
    // the worker goes on serving
    const next = await client.ask(brainRequest('What is the weather like today?'));
    assert.ok(next.response);
  });

  test('an answer longer than the bus allows ends at the last sentence that fits', async () => {
    const { response, partials } = await client.ask(brainRequest('Talk forever.', { constraints: { max_sentences: 2000, max_words: 20_000 } }));
    assert.ok(response);
    assert.ok(response.agent_response.length <= 20_000, `${response.agent_response.length} chars`);
    assert.ok(response.agent_response.length > 19_900, `${response.agent_response.length} chars`);
    assert.ok(response.agent_response.endsWith('forty-four chars.'));
    assert.equal(partials.map((p) => p.text).join(' '), response.agent_response);
  });

  test('a slow first token within the deadline still answers', async () => {
    const { response } = await client.ask(brainRequest('Answer slowly.', { constraints: { timeout_ms: 3_000 } }));
    assert.ok(response);
    assert.equal(response.agent_response, 'Here I am. Finally.');
    assert.ok(response.performance.time_to_first_token_ms >= 390, `ttft ${response.performance.time_to_first_token_ms}`);
  });

  for (const input of ['Hang forever.', 'Too slow.']) {
    test(`timeout (${input}) → agent.brain.error with the fallback within timeout_ms + 100 ms`, async () => {
      const timeoutMs = 600;
      const request = brainRequest(input, { constraints: { timeout_ms: timeoutMs } });
      const { error, response, partials, elapsedMs } = await client.ask(request);
      assert.equal(response, undefined);
      assert.ok(error);
      assert.equal(error.request_id, request.request_id);
      assert.equal(error.trace_id, request.trace_id);
      assert.equal(error.session_id, request.session_id);
      assert.equal(error.error_type, 'timeout');
      assert.equal(error.error_message, `LLM request exceeded ${timeoutMs}ms timeout`);
      assert.equal(error.retry_count, 0);
      assert.equal(error.fallback_response, FALLBACK);
      assert.deepEqual(partials, []);
      assert.ok(elapsedMs >= timeoutMs - 5, `not before the deadline (${elapsedMs.toFixed(1)} ms)`);
      assert.ok(elapsedMs <= timeoutMs + 100, `error after ${elapsedMs.toFixed(1)} ms`);
    });
  }

  test('429 then success: retried and answered', async () => {
    const { response } = await client.ask(brainRequest('Rate limited once.'));
    assert.ok(response);
    assert.equal(response.agent_response, 'Got there.');
    assert.equal(llm.requests.filter((r) => r.lastUserMessage === 'Rate limited once.').length, 2);
  });

  test('500 on every attempt: upstream_error after BRAIN_MAX_RETRIES retries, counted', async () => {
    const { error } = await client.ask(brainRequest('Always broken.', { constraints: { timeout_ms: 5_000 } }));
    assert.ok(error);
    assert.equal(error.error_type, 'upstream_error');
    assert.equal(error.retry_count, 3);
    assert.match(error.error_message, /500/);
    assert.equal(error.fallback_response, FALLBACK);
    assert.equal(llm.requests.filter((r) => r.lastUserMessage === 'Always broken.').length, 4);
  });

  test('a short deadline cuts retries short; retry_count matches the attempts made', async () => {
    // 500s with timeout_ms 100: backoffs of 10–20, 20–40, 40–80 ms cannot all run; the exact
    // count depends on jitter, but it must match what the endpoint saw (the unit tests of
    // withRetries pin the deadline rule itself)
    const before = llm.requests.filter((r) => r.lastUserMessage === 'Always broken.').length;
    const { error, elapsedMs } = await client.ask(brainRequest('Always broken.', { constraints: { timeout_ms: 100 } }));
    await new Promise((resolve) => setTimeout(resolve, 100)); // an attempt aborted at the deadline is still counted by the server
    const attempts = llm.requests.filter((r) => r.lastUserMessage === 'Always broken.').length - before;
    assert.ok(error);
    assert.ok(['upstream_error', 'timeout'].includes(error.error_type), error.error_type);
    assert.ok(elapsedMs <= 200, `${elapsedMs} ms`);
    assert.ok(error.retry_count <= 3);
    assert.ok(attempts === error.retry_count + 1 || (error.error_type === 'timeout' && attempts === error.retry_count), `${attempts} attempts, retry_count ${error.retry_count}`);
  });

  test('malformed streaming JSON is retried; when it persists it is an upstream_error', async () => {
    const once = await client.ask(brainRequest('Malformed once.'));
    assert.equal(once.response?.agent_response, 'Recovered from garbage.');
    const always = await client.ask(brainRequest('Always malformed.'));
    assert.equal(always.error?.error_type, 'upstream_error');
    assert.match(always.error.error_message, /malformed/);
    assert.equal(always.error.retry_count, 3);
  });

  test('a connection reset is retried', async () => {
    const { response } = await client.ask(brainRequest('Reset once.'));
    assert.equal(response?.agent_response, 'Reconnected.');
  });

  test('a 400 from the endpoint is invalid_request and is not retried', async () => {
    const { error } = await client.ask(brainRequest('Bad request.'));
    assert.equal(error?.error_type, 'invalid_request');
    assert.equal(error.retry_count, 0);
    assert.equal(llm.requests.filter((r) => r.lastUserMessage === 'Bad request.').length, 1);
  });

  test('a request older than the TTL is dropped: no model call, no answer', async () => {
    const stale = brainRequest('What is the weather like today?', { timestamp: new Date(Date.now() - 120_000).toISOString() });
    const before = llm.requests.length;
    client.bus.publish('agent.brain.request', stale);
    // a fresh request behind it proves the worker went on and the stale one had its chance
    const fresh = await client.ask(brainRequest('Rate limited once.'));
    assert.ok(fresh.response);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(client.forRequest(stale.request_id).map((m) => m.subject), ['agent.brain.request']);
    assert.equal(llm.requests.slice(before).filter((r) => r.lastUserMessage === stale.user_input).length, 0);
  });

  const invalid: [string, (r: Record<string, unknown>) => void][] = [
    ['missing user_input', (r) => delete r['user_input']],
    ['max_tokens -1', (r) => (r['constraints'] = { max_tokens: -1 })],
    ['timeout_ms 10,000,000', (r) => (r['constraints'] = { timeout_ms: 10_000_000 })],
    ['temperature as a string', (r) => (r['constraints'] = { temperature: 'hot' })],
  ];
  for (const [name, breakIt] of invalid) {
    test(`invalid request (${name}) → agent.brain.error invalid_request, worker keeps serving`, async () => {
      const request: Record<string, unknown> = { ...brainRequest('What is the weather like today?') };
      breakIt(request);
      const { error, response } = await client.ask(request, 5_000, true);
      assert.equal(response, undefined);
      assert.equal(error.error_type, 'invalid_request');
      assert.equal(error.request_id, request['request_id']);
      assert.equal(error.trace_id, request['trace_id']);
      assert.equal(error.retry_count, 0);
      assert.equal(error.fallback_response, FALLBACK);
      assert.match(error.error_message, /^invalid agent\.brain\.request: /);
      assert.ok((await client.ask(brainRequest('Rate limited once.'))).response, 'still answering');
    });
  }

  test('blank user_input → invalid_request; unparseable bytes are dead-lettered and nothing breaks', async () => {
    const blank = await client.ask(brainRequest('   '));
    assert.equal(blank.error?.error_type, 'invalid_request');
    assert.equal(blank.error.error_message, 'user_input is blank');
    client.bus.publishRaw('agent.brain.request', '{"request_id": "garbage", not json');
    assert.ok((await client.ask(brainRequest('Rate limited once.'))).response);
    assert.equal(client.forRequest('garbage').length, 0, 'nothing to route an answer to');
  });
});

describe('brain worker with BRAIN_LOGPROBS', () => {
  test('reports confidence_score from the answer tokens’ log-probabilities', async () => {
    const nats = await startNatsServer();
    const llm = await startScriptedOpenAIServer({ fallback: { type: 'text', text: 'Quite sure. Really.', logprob: -0.05 } });
    const worker = await startWorker(brainWorker, {
      env: { NATS_URL: nats.url, OPENAI_BASE_URL: llm.url, BRAIN_LOGPROBS: 'true', LOG_LEVEL: 'silent' },
      logger: silentLogger,
    });
    const client = await BrainClient.connect(nats.url);
    try {
      const { response } = await client.ask(brainRequest('How sure are you?'));
      assert.equal(response.metadata.confidence_score, Math.round(Math.exp(-0.05) * 1000) / 1000);
      assert.equal(llm.requests[0]!.body['logprobs'], true);
    } finally {
      await client.close();
      await worker.shutdown('test over');
      await llm.close();
      await nats.stop();
    }
  });
});
