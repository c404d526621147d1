// The brain evaluation: `npm run eval:brain`. Prints a table per model and writes
// bench-results/eval-brain.json.
//
//   npm run eval:brain                                   the offline default
//   npm run eval:brain -- --models smollm2-135m-instruct,qwen2.5-coder-1.5b-instruct
//   npm run eval:brain -- --nats nats://127.0.0.1:4222    a brain that is already running
//   OPENAI_BASE_URL=… BRAIN_MODEL=… npm run eval:brain    an OpenAI-compatible model
//   BRAIN_LOCAL_TOOLS=true npm run eval:brain                 any BRAIN_* variable reaches the worker
//   BENCH_ARC_ROOT=/path/to/other/checkout npm run eval:brain -- --baseline
//                                                        adds a row for that checkout's brain
//
// Each model gets its own brain worker process (node services/brain/dist/main.js) on a fresh
// nats-server; the questions go one at a time through the bus, as a voice worker sends them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startNatsServer, startProcess } from '@arc/testkit';
import { LOCAL_MODEL_ID } from '@arc/brain';
import { loadCases, runEval, summarise, type CaseResult } from './eval.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const cases = loadCases();
const runs: { label: string; results: CaseResult[] }[] = [];

function brainVariables(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('BRAIN_') && e[1] !== undefined));
}

async function evaluateWorker(label: string, root: string, env: Record<string, string>): Promise<void> {
  const nats = await startNatsServer();
  const worker = startProcess(process.execPath, [join(root, 'services', 'brain', 'dist', 'main.js')], {
    // BRAIN_* variables of this shell reach the worker (e.g. BRAIN_LOCAL_TOOLS=true, BRAIN_DIRECT_ANSWERS=off)
    env: { PATH: process.env['PATH'], NATS_URL: nats.url, LOG_LEVEL: 'info', ...brainVariables(), ...env },
  });
  try {
    await worker.waitForOutput(/brain ready/, 120_000);
    console.error(`${label}: asking ${cases.length} questions`);
    const results = await runEval({
      natsUrl: nats.url,
      cases,
      onResult: (r) => console.error(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.id.padEnd(18)} ${String(Math.round(r.firstSentenceMs ?? NaN)).padStart(6)} ms  ${JSON.stringify(r.answer).slice(0, 110)}${r.reason ? `  ← ${r.reason}` : ''}`),
    });
    runs.push({ label, results });
  } finally {
    await worker.stop(10_000);
    await nats.stop();
  }
}

const natsUrl = option('nats');
if (natsUrl) {
  const results = await runEval({ natsUrl, cases });
  runs.push({ label: `running brain at ${natsUrl}`, results });
} else {
  if (args.includes('--baseline')) {
    const root = process.env['BENCH_ARC_ROOT'];
    if (!root) throw new Error('--baseline needs BENCH_ARC_ROOT: the checkout whose brain is the baseline (built, models fetched)');
    await evaluateWorker(`baseline (${root})`, root, { ARC_MODELS_DIR: join(root, 'models', 'cache') });
  }
  if (process.env['OPENAI_BASE_URL']) {
    await evaluateWorker(process.env['BRAIN_MODEL'] ?? 'openai-compatible', REPO_ROOT, {
      OPENAI_BASE_URL: process.env['OPENAI_BASE_URL'],
      ...(process.env['OPENAI_API_KEY'] ? { OPENAI_API_KEY: process.env['OPENAI_API_KEY'] } : {}),
      ...(process.env['BRAIN_MODEL'] ? { BRAIN_MODEL: process.env['BRAIN_MODEL'] } : {}),
    });
  } else {
    for (const model of (option('models') ?? LOCAL_MODEL_ID).split(',')) {
      await evaluateWorker(model, REPO_ROOT, { BRAIN_LOCAL_MODEL: model, ...(process.env['ARC_MODELS_DIR'] ? { ARC_MODELS_DIR: process.env['ARC_MODELS_DIR'] } : {}) });
    }
  }
}

const categories = [...new Set(cases.map((c) => c.category))];
const pct = (x: number) => `${Math.round(x * 100)}%`;
const ms = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : '-');
const header = ['model', ...categories, 'exact', 'all', 'first p50', 'first p90', 'full p50', 'full p90', 'model-only first p50/p90', 'over cap'];
const rows = runs.map(({ label, results }) => {
  const s = summarise(results);
  // latency of the answers the model wrote (not the direct step's), where the model's speed shows
  const byModel = summarise(results.filter((r) => r.byModel));
  return {
    label,
    summary: s,
    cells: [
      label,
      ...categories.map((c) => {
        const cat = s.categories.find((x) => x.category === c)!;
        return `${cat.correct}/${cat.cases}`;
      }),
      pct(s.exactAccuracy),
      pct(s.overallAccuracy),
      ms(s.firstSentence.p50),
      ms(s.firstSentence.p90),
      ms(s.total.p50),
      ms(s.total.p90),
      `${ms(byModel.firstSentence.p50)}/${ms(byModel.firstSentence.p90)}`,
      String(s.overCap),
    ],
  };
});
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.cells.join(' | ')} |`);
console.log('\ntargets: exact ≥ 95%, all ≥ 80%, first sentence p50 ≤ 800 ms and p90 ≤ 1500 ms, no answer over the cap (3 sentences / 60 words)');

const outDir = join(REPO_ROOT, 'bench-results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'eval-brain.json'), `${JSON.stringify({ date: new Date().toISOString(), runs: runs.map((r, i) => ({ ...r, summary: rows[i]!.summary })) }, null, 2)}\n`);
console.log(`wrote ${join(outDir, 'eval-brain.json')}`);
