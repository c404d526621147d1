// Brain worker overhead benchmark: `npm run bench:brain`. Prints a table and writes
// bench-results/brain.json.
//
// Overhead of one request = (request published → first agent.brain.partial received)
//                         − (scripted model: request arrived → first token written).
// That is everything the worker adds before the first sentence can be spoken: decoding and
// validating the request, the LangGraph run up to the model node, building and sending the
// HTTP call, parsing the SSE chunk, sentence splitting, publishing the partial — plus two NATS
// hops on loopback, which the worker cannot avoid either. One worker process (node dist/main.js),
// requests one at a time so queueing does not count. Target: median ≤ 5 ms.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectBus } from '@arc/bus';
import { newTraceId } from '@arc/contracts';
import { REPO_ROOT, percentile, silentLogger, startNatsServer, startProcess, startScriptedOpenAIServer } from '@arc/testkit';

const REQUESTS = 200;
const WARMUP = 100;
const MODEL_FIRST_TOKEN_MS = 10;
const TARGET_MEDIAN_MS = 5;

const nats = await startNatsServer();
const llm = await startScriptedOpenAIServer({
  fallback: { type: 'text', text: ['Hello there. ', 'This is ', 'the rest of ', 'the answer.'], firstTokenDelayMs: MODEL_FIRST_TOKEN_MS, chunkDelayMs: 1 },
});
const worker = startProcess(process.execPath, [join(REPO_ROOT, 'services', 'brain', 'dist', 'main.js')], {
  env: { PATH: process.env['PATH'], NATS_URL: nats.url, OPENAI_BASE_URL: llm.url, BRAIN_MODEL: 'scripted-gpt', LOG_LEVEL: 'info' },
});
const overhead: number[] = [];
const endToEnd: number[] = [];
const modelTtft: number[] = [];
// servers and the worker are stopped even when a run fails, so nothing is left running
try {
  await worker.waitForOutput(/brain ready/, 30_000);

  // the client's own validation (a few µs per message) is counted against the worker: conservative
  const bus = await connectBus({ servers: nats.url, service: 'arc-bench-voice', logger: silentLogger });
  const firstPartial = new Map<string, (at: number) => void>();
  bus.subscribe(
    'agent.brain.partial',
    (partial) => {
      if (partial.sequence === 0) firstPartial.get(partial.request_id)?.(performance.now());
    },
    { deadLetter: false },
  );
  const finished = new Map<string, () => void>();
  bus.subscribe('agent.brain.response', (response) => finished.get(response.request_id)?.(), { deadLetter: false });
  bus.subscribe('agent.brain.error', (error) => finished.get(error.request_id)?.(), { deadLetter: false });
  await bus.flush();

  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const requestId = `bench-${i}`;
    const partial = new Promise<number>((resolve) => firstPartial.set(requestId, resolve));
    const done = new Promise<void>((resolve) => finished.set(requestId, resolve));
    const before = llm.requests.length;
    const request = {
      request_id: requestId,
      trace_id: newTraceId(),
      session_id: 'bench-session',
      user_input: `Benchmark question ${i}?`,
      constraints: { max_tokens: 150, temperature: 0.7, timeout_ms: 5_000 },
    };
    const sentAt = performance.now();
    bus.publish('agent.brain.request', request);
    const partialAt = await partial;
    await done; // one at a time: the next request must not queue behind this one
    const call = llm.requests[before]!;
    const ttft = call.firstTokenAt! - call.receivedAt;
    if (i >= WARMUP) {
      endToEnd.push(partialAt - sentAt);
      modelTtft.push(ttft);
      overhead.push(partialAt - sentAt - ttft);
    }
    firstPartial.delete(requestId);
    finished.delete(requestId);
  }
  await bus.close();
} finally {
  await worker.stop(5_000);
  await llm.close();
  await nats.stop();
}

const stats = (values: number[]) => {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { median: round(percentile(values, 0.5)), p90: round(percentile(values, 0.9)), p99: round(percentile(values, 0.99)), max: round(Math.max(...values)) };
};
const results = {
  benchmark: 'brain worker overhead: request published → first partial received, minus the model time to first token',
  requests: REQUESTS,
  warmup: WARMUP,
  scripted_model_first_token_ms: MODEL_FIRST_TOKEN_MS,
  target_median_ms: TARGET_MEDIAN_MS,
  overhead_ms: stats(overhead),
  end_to_end_first_partial_ms: stats(endToEnd),
  model_time_to_first_token_ms: stats(modelTtft),
  meets_target: stats(overhead).median <= TARGET_MEDIAN_MS,
  node: process.version,
  measured_at: new Date().toISOString(),
};

const rows: [string, ReturnType<typeof stats>][] = [
  ['worker overhead (incl. 2 NATS hops)', results.overhead_ms],
  ['request → first partial (end to end)', results.end_to_end_first_partial_ms],
  ['scripted model time to first token', results.model_time_to_first_token_ms],
];
console.log(`\nbrain worker, ${REQUESTS} sequential requests (after ${WARMUP} warm-up), ms`);
console.log(`${'measure'.padEnd(40)}${'median'.padStart(9)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}`);
for (const [name, s] of rows) {
  console.log(`${name.padEnd(40)}${s.median.toFixed(2).padStart(9)}${s.p90.toFixed(2).padStart(9)}${s.p99.toFixed(2).padStart(9)}${s.max.toFixed(2).padStart(9)}`);
}
console.log(`target: median overhead ≤ ${TARGET_MEDIAN_MS} ms → ${results.meets_target ? 'MET' : 'NOT MET'}`);

const outDir = join(REPO_ROOT, 'bench-results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'brain.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${join(outDir, 'brain.json')}`);
