/**
 * npm run bench:capacity — how many rooms at once one machine serves inside the real-time budget.
 *
 * Real nats-server, livekit-server, voice, brain and TTS workers. For each N (default 1, 2, 4,
 * 6, 8) N rooms each get one real LiveKit user (espeak audio) who asks K questions in a row
 * (default 3); the users start all together, or staggered over a few seconds. The brain answers
 * from the scripted OpenAI-compatible server at zero delay, or (mode `local`) with the offline
 * local model. Voice-to-voice (v2v) = end of the user's audio → first agent audio at the user.
 * Per worker, the worst heartbeat window of the run gives hop p99 and event-loop lag p99; CPU is
 * the mean, RSS the largest. It ends with the largest N whose v2v p90 is ≤ 1.5 s and no turn
 * failed ("rooms per machine"), and writes bench-results/capacity.json.
 *
 * Environment: BENCH_ROOMS=1,2,4,6,8  BENCH_TURNS=3  BENCH_ARRIVALS=together,staggered
 * BENCH_STAGGER_MS=6000  BENCH_MODES=scripted,local  BENCH_LOCAL_ROOMS=1,3
 * BENCH_ARC_ROOT=<another ARC checkout, built>: run its workers (e.g. main as it was) for a baseline.
 * BENCH_WORKER_ENV='{"VOICE_MAX_SESSIONS":"8"}': extra environment for every worker.
 * BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof': node flags for every worker.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { dispose } from '@livekit/rtc-node';
import { Conversation } from '@arc/cli';
import { espeakSpeech, float32ToInt16 } from '@arc/speech';
import {
  REPO_ROOT,
  collect,
  freePort,
  percentile,
  startLiveKitServer,
  startNatsServer,
  startProcess,
  startScriptedOpenAIServer,
  waitFor,
  workerEnv,
  type Collector,
  type ManagedProcess,
} from '@arc/testkit';

const list = (value: string | undefined, fallback: string) => (value ?? fallback).split(',').map((v) => v.trim()).filter(Boolean);
const ROOMS = list(process.env.BENCH_ROOMS, '1,2,4,6,8').map(Number);
const LOCAL_ROOMS = list(process.env.BENCH_LOCAL_ROOMS, '1,3').map(Number);
const TURNS = Number(process.env.BENCH_TURNS ?? 3);
const ARRIVALS = list(process.env.BENCH_ARRIVALS, 'together,staggered') as ('together' | 'staggered')[];
const STAGGER_MS = Number(process.env.BENCH_STAGGER_MS ?? 6_000);
const MODES = list(process.env.BENCH_MODES, 'scripted,local') as ('scripted' | 'local')[];
const ARC_ROOT = process.env.BENCH_ARC_ROOT ?? REPO_ROOT;
const WORKER_ENV = JSON.parse(process.env.BENCH_WORKER_ENV ?? '{}') as Record<string, string>;
const NODE_ARGS = list(process.env.BENCH_NODE_ARGS?.replaceAll(' ', ','), '');
const P90_TARGET_MS = 1_500;
const ANSWER = 'It is ten past nine in the evening in Paris.';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface WorkerFigures {
  service: string;
  instance: string;
  hop_p99_ms: number;
  lag_p99_ms: number;
  cpu_percent: number;
  rss_mb: number;
  /** per inference operation: tasks, and the worst heartbeat window's median and largest wait/run (ms) */
  inference: Record<string, { tasks: number; wait_p50_ms: number; wait_max_ms: number; run_p50_ms: number; run_max_ms: number }>;
}

/** Where a turn's voice-to-voice went, from the events' bus timestamps (ms). */
interface TurnStages {
  eou_wait_and_stt: number;
  brain: number;
  coordinator: number;
  tts_first_audio: number;
  transport: number;
}

/** CPU time (ms) of the processes on this machine by role, from /proc (Linux). */
function cpuByRole(): Map<string, number> {
  const roles: [string, RegExp][] = [
    ['livekit-server', /livekit-server/],
    ['nats-server', /nats-server/],
    ['voice', /services\/voice\/dist\/main\.js/],
    ['tts', /services\/tts\/dist\/main\.js/],
    ['brain', /services\/brain\/dist\/main\.js/],
    ['users (this bench)', new RegExp(`^${process.pid}$`)],
  ];
  const ticksPerMs = 100 / 1000; // USER_HZ
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const role = roles.find(([, pattern]) => pattern.test(cmdline) || pattern.test(pid))?.[0];
      if (!role) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      out.set(role, (out.get(role) ?? 0) + ticks / ticksPerMs);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface RunResult {
  mode: string;
  arrival: string;
  rooms: number;
  turns: number;
  answered: number;
  failed: number;
  v2v_p50_ms: number;
  v2v_p90_ms: number;
  v2v_max_ms: number;
  v2v_ms: number[];
  /** medians of the turn stages */
  stages: Partial<TurnStages>;
  /** CPU used during the level by role, % of one core */
  cpu_percent_by_role: Record<string, number>;
  workers: WorkerFigures[];
  load_average: number[];
}

function workerFigures(heartbeats: Collector, from: number, to: number): WorkerFigures[] {
  const byInstance = new Map<string, { service: string; hop: number; lag: number; cpu: number[]; rss: number; inference: WorkerFigures['inference'] }>();
  for (const { payload: beat, at } of heartbeats.messages as unknown as { payload: any; at: number }[]) {
    if (at < from || at > to) continue;
    const key = beat.instance_id ?? beat.service;
    const entry = byInstance.get(key) ?? { service: beat.service as string, hop: 0, lag: 0, cpu: [] as number[], rss: 0, inference: {} };
    for (const [op, s] of Object.entries((beat.metrics.inference ?? {}) as WorkerFigures['inference'])) {
      const acc = (entry.inference[op] ??= { tasks: 0, wait_p50_ms: 0, wait_max_ms: 0, run_p50_ms: 0, run_max_ms: 0 });
      acc.tasks += s.tasks;
      acc.wait_p50_ms = Math.max(acc.wait_p50_ms, s.wait_p50_ms);
      acc.wait_max_ms = Math.max(acc.wait_max_ms, s.wait_max_ms);
      acc.run_p50_ms = Math.max(acc.run_p50_ms, s.run_p50_ms);
      acc.run_max_ms = Math.max(acc.run_max_ms, s.run_max_ms);
    }
    entry.hop = Math.max(entry.hop, beat.metrics.bus?.hop_p99_ms ?? 0);
    entry.lag = Math.max(entry.lag, beat.metrics.event_loop_lag_ms ?? 0);
    entry.cpu.push(beat.metrics.cpu_percent);
    entry.rss = Math.max(entry.rss, beat.metrics.memory_mb);
    byInstance.set(key, entry);
  }
  return [...byInstance].map(([instance, e]) => ({
    service: e.service.replace(/^arc-/, ''),
    instance,
    hop_p99_ms: e.hop,
    lag_p99_ms: e.lag,
    cpu_percent: e.cpu.reduce((a, b) => a + b, 0) / Math.max(1, e.cpu.length),
    rss_mb: e.rss,
    inference: e.inference,
  }));
}

/** Heartbeats with the time they arrived here (their own timestamps come from other processes). */
async function collectStamped(url: string, subject: string): Promise<Collector> {
  const collector = await collect(url, subject);
  const messages = collector.messages as { subject: string; payload: unknown; at?: number }[];
  const push = messages.push.bind(messages);
  messages.push = (...items) => push(...items.map((m) => Object.assign(m, { at: Date.now() })));
  return collector;
}

interface BusEvents {
  sessions: Collector;
  requests: Collector;
  partials: Collector;
  tts: Collector;
  completed: Collector;
}

const wall = (performanceTime: number) => Date.now() - (performance.now() - performanceTime);
const stamp = (m: { payload: { timestamp: string } }) => Date.parse(m.payload.timestamp);

/** The turn's events on the bus: its brain request (by room and turn), first partial, first TTS request and its completion. */
function stagesOf(events: BusEvents, room: string, turn: number, speechEndAt: number, heardAt: number): TurnStages | undefined {
  const session = events.sessions.messages.find((m) => m.payload.room_name === room)?.payload.session_id;
  const request = events.requests.messages.find((m) => m.payload.session_id === session && m.payload.turn_index === turn);
  if (!request) return undefined;
  const id = request.payload.request_id as string;
  const partial = events.partials.messages.find((m) => m.payload.request_id === id && m.payload.sequence === 0);
  const tts = events.tts.messages.find((m) => m.subject.endsWith('.request') && m.payload.request_id === `${id}-s0`);
  const done = events.completed.messages.find((m) => m.payload.request_id === `${id}-s0`);
  if (!partial || !tts || !done) return undefined;
  const firstAudio = stamp(tts) + (done.payload.time_to_first_audio_ms ?? 0);
  return {
    eou_wait_and_stt: stamp(request) - speechEndAt,
    brain: stamp(partial) - stamp(request),
    coordinator: stamp(tts) - stamp(partial),
    tts_first_audio: firstAudio - stamp(tts),
    transport: heardAt - firstAudio,
  };
}

async function runMode(mode: 'scripted' | 'local', question: Int16Array): Promise<RunResult[]> {
  const nats = await startNatsServer();
  const voicePort = await freePort();
  const livekit = await startLiveKitServer({ webhookUrls: [`http://127.0.0.1:${voicePort}/livekit/webhook`] });
  const model = mode === 'scripted' ? await startScriptedOpenAIServer({ fallback: { type: 'text', text: ANSWER } }) : undefined;
  const servers = { nats, livekit };
  const start = (name: string, extra: Record<string, string>) =>
    startProcess(process.execPath, [...NODE_ARGS, join(ARC_ROOT, 'services', name, 'dist', 'main.js')], {
      env: workerEnv(servers, { LOG_LEVEL: 'warn', ...WORKER_ENV, ...extra }),
    });
  const workers: ManagedProcess[] = [
    start('voice', { VOICE_HTTP_PORT: String(voicePort) }),
    start('brain', model ? { OPENAI_BASE_URL: model.url } : {}),
    start('tts', {}),
  ];
  const heartbeats = await collectStamped(nats.url, 'system.health.heartbeat');
  const [sessions, requests, partials, ttsQueue, completed] = await Promise.all(
    ['agent.voice.session.started', 'agent.brain.request', 'agent.brain.partial', 'agent.tts.>', 'agent.tts.completed'].map((s) => collect(nats.url, s)),
  );
  const events: BusEvents = { sessions: sessions!, requests: requests!, partials: partials!, tts: ttsQueue!, completed: completed! };
  const results: RunResult[] = [];
  try {
    await waitFor(() => new Set(heartbeats.messages.filter((m) => m.payload.status === 'healthy').map((m) => m.payload.service)).size >= 3, 120_000, 'three healthy workers', 200);
    for (const arrival of ARRIVALS) {
      for (const rooms of mode === 'scripted' ? ROOMS : LOCAL_ROOMS) {
        results.push(await runLevel(mode, arrival, rooms, question, livekit, heartbeats, events));
        const last = results.at(-1)!;
        process.stderr.write(
          `${mode} ${arrival} N=${rooms}: v2v p50 ${last.v2v_p50_ms.toFixed(0)} p90 ${last.v2v_p90_ms.toFixed(0)} max ${last.v2v_max_ms.toFixed(0)} ms, failed ${last.failed}/${last.turns}\n`,
        );
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop(10_000)));
    await Promise.all([heartbeats, ...Object.values(events)].map((c) => c.close()));
    await model?.close();
    await livekit.stop();
    await nats.stop();
  }
  return results;
}

async function runLevel(
  mode: string,
  arrival: 'together' | 'staggered',
  rooms: number,
  question: Int16Array,
  livekit: { url: string; apiKey: string; apiSecret: string },
  heartbeats: Collector,
  events: BusEvents,
): Promise<RunResult> {
  const tag = `${mode}-${arrival}-${rooms}-${Date.now().toString(36)}`;
  const users = await Promise.all(
    Array.from({ length: rooms }, (_, i) =>
      Conversation.join({ ...livekit, livekitUrl: livekit.url, room: `cap-${tag}-${i}`, identity: `user-${i}`, answerTimeoutMs: 15_000, listenerWaitMs: 4_000 }),
    ),
  );
  const from = Date.now();
  const cpuBefore = cpuByRole();
  const v2v: number[] = [];
  const stages: TurnStages[] = [];
  let failed = 0;
  await Promise.all(
    users.map(async (user, i) => {
      if (arrival === 'staggered') await sleep((i * STAGGER_MS) / Math.max(1, rooms));
      for (let turn = 0; turn < TURNS; turn++) {
        const result = await user.ask(question);
        if (result.voiceToVoiceMs === undefined || result.answer.length < 16_000 * 0.3) {
          failed++;
          continue;
        }
        v2v.push(result.voiceToVoiceMs);
        const heardAt = wall(result.speechFrameTimes[0]!);
        const turnStages = stagesOf(events, `cap-${tag}-${i}`, turn, heardAt - result.voiceToVoiceMs, heardAt);
        if (turnStages) stages.push(turnStages);
      }
    }),
  );
  const to = Date.now();
  const cpuAfter = cpuByRole();
  await Promise.all(users.map((u) => u.leave()));
  // Let sessions end and TTS rooms go idle before the next level.
  await sleep(3_000);
  return {
    mode,
    arrival,
    rooms,
    turns: rooms * TURNS,
    answered: v2v.length,
    failed,
    v2v_p50_ms: percentile(v2v, 0.5),
    v2v_p90_ms: percentile(v2v, 0.9),
    v2v_max_ms: v2v.length ? Math.max(...v2v) : NaN,
    v2v_ms: v2v.map(Math.round),
    stages: Object.fromEntries(
      (['eou_wait_and_stt', 'brain', 'coordinator', 'tts_first_audio', 'transport'] as const).map((k) => [k, Math.round(percentile(stages.map((s) => s[k]), 0.5))]),
    ),
    cpu_percent_by_role: Object.fromEntries([...cpuAfter].map(([role, ms]) => [role, Math.round(((ms - (cpuBefore.get(role) ?? 0)) / (to - from)) * 100)])),
    workers: workerFigures(heartbeats, from, to + 1_500),
    load_average: loadavg(),
  };
}

function printTable(results: RunResult[]): void {
  const head = ['mode', 'arrival', 'N', 'v2v p50', 'p90', 'max', 'failed', 'stages p50: eou+stt/brain/coord/tts/transport', 'worker: hop p99 / lag p99 ms, cpu %, rss MB'];
  console.log(head.join('\t'));
  for (const r of results) {
    const workers = r.workers
      .sort((a, b) => a.service.localeCompare(b.service))
      .map((w) => `${w.service} ${w.hop_p99_ms.toFixed(1)}/${w.lag_p99_ms.toFixed(1)} ${w.cpu_percent.toFixed(0)}% ${w.rss_mb.toFixed(0)}`)
      .join(' · ');
    const stages = ['eou_wait_and_stt', 'brain', 'coordinator', 'tts_first_audio', 'transport'].map((k) => r.stages[k as keyof TurnStages] ?? '-').join('/');
    console.log([r.mode, r.arrival, r.rooms, r.v2v_p50_ms.toFixed(0), r.v2v_p90_ms.toFixed(0), r.v2v_max_ms.toFixed(0), `${r.failed}/${r.turns}`, stages, workers].join('\t'));
  }
}

async function main(): Promise<void> {
  const question = float32ToInt16(espeakSpeech('What time is it in Paris?'));
  const results: RunResult[] = [];
  for (const mode of MODES) results.push(...(await runMode(mode, question)));
  await dispose();
  console.log(`\ncapacity — ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, workers from ${ARC_ROOT}, ${TURNS} turns per room`);
  printTable(results);
  console.log('\nCPU by role during each level (% of one core):');
  for (const r of results) console.log(`${r.mode} ${r.arrival} N=${r.rooms}: ${Object.entries(r.cpu_percent_by_role).map(([role, pct]) => `${role} ${pct}%`).join(', ')}`);
  console.log('\ninference per operation (worst heartbeat window: wait p50/max, run p50/max ms):');
  for (const r of results) {
    const ops = r.workers.flatMap((w) => Object.entries(w.inference).map(([op, s]) => `${op} ${s.tasks}× wait ${s.wait_p50_ms}/${s.wait_max_ms} run ${s.run_p50_ms}/${s.run_max_ms}`));
    console.log(`${r.mode} ${r.arrival} N=${r.rooms}: ${ops.join(' · ')}`);
  }
  const capacity: Record<string, number> = {};
  for (const r of results) {
    const key = `${r.mode}/${r.arrival}`;
    if (r.failed === 0 && r.v2v_p90_ms <= P90_TARGET_MS) capacity[key] = Math.max(capacity[key] ?? 0, r.rooms);
    else capacity[key] ??= 0;
  }
  console.log(`\nrooms per machine (largest N with v2v p90 ≤ ${P90_TARGET_MS} ms, no failed turn): ${Object.entries(capacity).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  mkdirSync(join(REPO_ROOT, 'bench-results'), { recursive: true });
  const out = join(REPO_ROOT, 'bench-results', `capacity${process.env.BENCH_LABEL ? `-${process.env.BENCH_LABEL}` : ''}.json`);
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, arc_root: ARC_ROOT, turns: TURNS, stagger_ms: STAGGER_MS, capacity, results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
