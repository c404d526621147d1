/**
 * npm run bench:bus — raw NATS vs the ARC bus, measured in the same run, between two processes.
 *   1. one-way latency of 1 KB messages at a paced 10k msg/s (p50/p99/p99.9)
 *   2. maximum throughput (msgs/s received) of 1 KB messages
 *   3. fan-out: one message to 1000 subscribers, latency of the last copy (p50/p99)
 * Prints a table and writes bench-results/bus.json. A benchmark, not a test: numbers depend on
 * the machine, so they are reported, never asserted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { ExamplePayloads, isoTimestamp, preciseNowMs, type BrainRequest } from '@arc/contracts';
import { startNatsServer } from '@arc/testkit';
import { connectBus } from '../index.js';

type Mode = 'raw' | 'arc';
type Scenario = 'latency' | 'throughput' | 'fanout';
interface ReceiverCommand {
  mode: Mode;
  scenario: Scenario;
  url: string;
  subject: string;
  expected: number;
  subscribers: number;
}
interface ReceiverResult {
  received: number;
  p50: number;
  p99: number;
  p999: number;
  firstAt: number;
  lastAt: number;
}

const RATE = 10_000;
const LATENCY_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const THROUGHPUT_MESSAGES = Number(process.env.BENCH_THROUGHPUT_MESSAGES ?? 200_000);
const FANOUT_SUBSCRIBERS = 1000;
const FANOUT_MESSAGES = Number(process.env.BENCH_FANOUT_MESSAGES ?? 100);
const FANOUT_RATE = 20;
const SUBJECT = 'agent.brain.request';

/** A ~1 KB brain request. */
function kilobytePayload(): Omit<BrainRequest, 'timestamp' | 'trace_id'> {
  const { timestamp: _t, trace_id: _id, ...request } = ExamplePayloads['agent.brain.request'];
  const size = Buffer.byteLength(JSON.stringify({ ...request, timestamp: isoTimestamp(), trace_id: 'x'.repeat(32) }));
  return { ...request, user_input: `${request.user_input} ${'.'.repeat(Math.max(0, 1024 - size - 1))}` };
}

// ------------------------------------------------------------------ receiver (child process)
async function runReceiver(command: ReceiverCommand): Promise<ReceiverResult> {
  const histogram = createHistogram();
  // For fan-out: per message, the latest arrival among all copies.
  const lastCopy = new Map<number, number>();
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const total = command.expected * command.subscribers;
  const record = (sentAt: number, now: number, key: number) => {
    if (received === 0) firstAt = now;
    received++;
    lastAt = now;
    if (command.scenario === 'fanout') lastCopy.set(key, Math.max(lastCopy.get(key) ?? 0, now - sentAt));
    else if (command.scenario === 'latency') histogram.record(Math.max(1, Math.round((now - sentAt) * 1000)));
    if (received === total) done();
  };

  let close: () => Promise<void>;
  if (command.mode === 'raw') {
    const nc = await connect({ servers: command.url });
    for (let i = 0; i < command.subscribers; i++) {
      nc.subscribe(command.subject, {
        callback: (_error, msg) => {
          // raw baseline: the send time travels as a float64 in the first 8 bytes
          const view = new DataView(msg.data.buffer, msg.data.byteOffset, 16);
          record(view.getFloat64(0, true), preciseNowMs(), view.getFloat64(8, true));
        },
      });
    }
    await nc.flush();
    close = () => nc.drain();
  } else {
    const bus = await connectBus({ servers: command.url, service: 'arc-bench-receiver' });
    for (let i = 0; i < command.subscribers; i++) {
      bus.subscribe(SUBJECT, (payload, meta) => {
        const now = preciseNowMs();
        record(now - meta.hopLatencyMs, now, payload.turn_index ?? 0);
      });
    }
    await bus.flush();
    close = () => bus.close(2_000);
  }
  process.send?.({ ready: true });
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 120_000))]);
  await close();
  if (command.scenario === 'fanout') for (const latency of lastCopy.values()) histogram.record(Math.max(1, Math.round(latency * 1000)));
  const pct = (p: number) => (histogram.count ? histogram.percentile(p) / 1000 : 0);
  return { received, p50: pct(50), p99: pct(99), p999: pct(99.9), firstAt, lastAt };
}

// ------------------------------------------------------------------ sender (parent process)
function startReceiver(command: ReceiverCommand): Promise<{ child: ChildProcess; result: Promise<ReceiverResult> }> {
  const child = fork(fileURLToPath(import.meta.url), ['receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => {
    const result = new Promise<ReceiverResult>((done) => child.on('message', (m: { result?: ReceiverResult }) => m.result && done(m.result)));
    child.once('message', () => resolve({ child, result }));
    child.send(command);
  });
}

/** Publishes `count` messages at `rate`/s (0 = as fast as possible). */
async function send(mode: Mode, url: string, count: number, rate: number): Promise<void> {
  const payload = kilobytePayload();
  const rawBytes = new Uint8Array(Buffer.byteLength(JSON.stringify({ ...payload, timestamp: isoTimestamp(), trace_id: 'x'.repeat(32) })));
  let publish: (index: number) => void;
  let finish: () => Promise<void>;
  if (mode === 'raw') {
    const nc = await connect({ servers: url });
    const view = new DataView(rawBytes.buffer);
    publish = (index) => {
      view.setFloat64(0, preciseNowMs(), true);
      view.setFloat64(8, index, true);
      nc.publish(SUBJECT, rawBytes);
    };
    finish = async () => {
      await nc.flush();
      await nc.drain();
    };
  } else {
    const bus = await connectBus({ servers: url, service: 'arc-bench-sender' });
    publish = (index) => void bus.publish(SUBJECT, { ...payload, turn_index: index });
    finish = () => bus.close(2_000);
  }
  const started = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = rate === 0 ? count : Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    // Paced: each message goes out when due, on its own (as independent events do), not in
    // timer-sized bursts. Unpaced: batches of 1000. Yielding lets the socket write.
    for (let batch = 0; sent < due && batch < 1000; batch++) publish(sent++);
    const nextDueInMs = rate === 0 ? 0 : started + ((sent + 1) / rate) * 1000 - performance.now();
    // Sleep when the next message is far off (fan-out at 20/s); spin briefly otherwise.
    await new Promise((resolve) => (nextDueInMs > 2 ? setTimeout(resolve, nextDueInMs - 1) : setImmediate(resolve)));
  }
  await finish();
}

async function measure(mode: Mode, scenario: Scenario, url: string): Promise<ReceiverResult> {
  const plan = {
    latency: { count: RATE * LATENCY_SECONDS, rate: RATE, subscribers: 1 },
    throughput: { count: THROUGHPUT_MESSAGES, rate: 0, subscribers: 1 },
    fanout: { count: FANOUT_MESSAGES, rate: FANOUT_RATE, subscribers: FANOUT_SUBSCRIBERS },
  }[scenario];
  const { child, result } = await startReceiver({ mode, scenario, url, subject: SUBJECT, expected: plan.count, subscribers: plan.subscribers });
  await send(mode, url, plan.count, plan.rate);
  const outcome = await result;
  child.kill();
  return outcome;
}

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const results: Record<string, Record<Mode, ReceiverResult & { msgs_per_s?: number }>> = {};
  try {
    for (const scenario of ['latency', 'throughput', 'fanout'] as const) {
      results[scenario] = {} as Record<Mode, ReceiverResult>;
      // Alternate raw and ARC so drift in machine load affects both alike.
      for (const mode of ['raw', 'arc'] as const) {
        const r = await measure(mode, scenario, nats.url);
        const seconds = (r.lastAt - r.firstAt) / 1000;
        results[scenario]![mode] = { ...r, msgs_per_s: seconds > 0 ? Math.round(r.received / seconds) : 0 };
        process.stderr.write(`${scenario}/${mode} done\n`);
      }
    }
  } finally {
    await nats.stop();
  }
  const f = (n: number) => n.toFixed(3);
  const lat = results.latency!;
  const thr = results.throughput!;
  const fan = results.fanout!;
  const rows = [
    ['metric', 'raw NATS', 'ARC bus', 'ARC / raw', 'target'],
    ['1 KB one-way p50 ms @10k/s', f(lat.raw.p50), f(lat.arc.p50), (lat.arc.p50 / lat.raw.p50).toFixed(2), '≤ 1.3× raw'],
    ['1 KB one-way p99 ms @10k/s', f(lat.raw.p99), f(lat.arc.p99), (lat.arc.p99 / lat.raw.p99).toFixed(2), 'ARC ≤ 2 ms'],
    ['1 KB one-way p99.9 ms @10k/s', f(lat.raw.p999), f(lat.arc.p999), (lat.arc.p999 / lat.raw.p999).toFixed(2), ''],
    ['received at 10k/s', String(lat.raw.received), String(lat.arc.received), '', `${RATE * LATENCY_SECONDS}`],
    ['max throughput msgs/s', String(thr.raw.msgs_per_s), String(thr.arc.msgs_per_s), (thr.arc.msgs_per_s! / thr.raw.msgs_per_s!).toFixed(2), '≥ 10,000'],
    [`fan-out ${FANOUT_SUBSCRIBERS} subs: last copy p50 ms`, f(fan.raw.p50), f(fan.arc.p50), (fan.arc.p50 / fan.raw.p50).toFixed(2), ''],
    [`fan-out ${FANOUT_SUBSCRIBERS} subs: last copy p99 ms`, f(fan.raw.p99), f(fan.arc.p99), (fan.arc.p99 / fan.raw.p99).toFixed(2), '< 10 ms'],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/bus.json', `${JSON.stringify({ at: new Date().toISOString(), rate: RATE, seconds: LATENCY_SECONDS, results }, null, 2)}\n`);
  console.log('\nwrote bench-results/bus.json');
}

if (process.argv[2] === 'receiver') {
  process.once('message', (command: ReceiverCommand) => {
    void runReceiver(command).then((result) => {
      process.send?.({ result });
    });
  });
} else {
  await main();
}
