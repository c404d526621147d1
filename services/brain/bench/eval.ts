/**
 * The brain evaluation: questions with exact checks, asked of any brain through the bus
 * (agent.brain.request → agent.brain.partial / agent.brain.response), one at a time so the
 * latencies are a single user's. Used by `npm run eval:brain` and by the exact-category test.
 */
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { newTraceId, Subjects, isoTimestamp } from '@arc/contracts';
import { replaceNumberWords } from '@arc/brain';

export type Expect =
  | { readonly type: 'time'; readonly zone: string }
  | { readonly type: 'date' | 'weekday'; readonly zone: string; readonly offset_days: number }
  | { readonly type: 'number'; readonly value: number; readonly tolerance?: number }
  | { readonly type: 'any'; readonly words: readonly string[] }
  | { readonly type: 'brief'; readonly max_sentences: number; readonly max_words: number }
  | { readonly type: 'refusal'; readonly forbidden: readonly string[] };

export interface EvalCase {
  readonly id: string;
  readonly category: string;
  readonly question: string;
  readonly previous_turns?: readonly { user: string; agent: string }[];
  readonly user_profile?: Record<string, unknown>;
  readonly expect: Expect;
}

export interface CaseResult {
  readonly id: string;
  readonly category: string;
  readonly question: string;
  readonly answer: string;
  readonly ok: boolean;
  /** why a failed case failed */
  readonly reason?: string;
  readonly tools: readonly string[];
  readonly model: string;
  /** the model wrote the answer (false: the direct step did, with llm_latency_ms 0) */
  readonly byModel: boolean;
  /** request published → first agent.brain.partial, ms */
  readonly firstSentenceMs: number | undefined;
  /** request published → agent.brain.response or error, ms */
  readonly totalMs: number;
  readonly words: number;
  readonly sentences: number;
}

/** The categories whose every answer has one exact form. */
export const EXACT_CATEGORIES = ['time', 'date', 'weekday', 'arithmetic', 'units', 'memory'] as const;

export function loadCases(path = new URL('../eval-cases.json', import.meta.url)): EvalCase[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: EvalCase[] }).cases;
}

const words = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The numbers in an answer, spoken ones included ("forty-two", "1,024"). */
export function numbersIn(text: string): number[] {
  const cleaned = replaceNumberWords(text.toLowerCase().replace(/(\d),(?=\d{3}\b)/g, '$1').replace(/[^a-z0-9.\s-]/g, ' '));
  return [...cleaned.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

/** Checks an answer against its expectation at `now`; returns the reason it fails, or undefined. */
export function check(expect: Expect, answer: string, now: Date): string | undefined {
  const text = answer.toLowerCase();
  switch (expect.type) {
    case 'time': {
      // the minute of the question or the next one, in 12 or 24 hour form
      const accepted = [0, 60_000, -60_000].flatMap((shift) => {
        const at = new Date(now.getTime() + shift);
        const parts = (hour12: boolean) =>
          new Intl.DateTimeFormat('en-US', { timeZone: expect.zone, hour: 'numeric', minute: '2-digit', hour12, hourCycle: hour12 ? 'h12' : 'h23' }).format(at).replace(/\s?[AP]M$/i, '');
        return [parts(true), parts(false), parts(false).replace(/^0/, '')];
      });
      return accepted.some((t) => new RegExp(`\\b${escape(t)}\\b`).test(text)) ? undefined : `expected ${[...new Set(accepted)].slice(0, 2).join(' or ')} (${expect.zone})`;
    }
    case 'date':
    case 'weekday': {
      const day = new Date(now.getTime() + expect.offset_days * 86_400_000);
      const f = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('en-US', { timeZone: expect.zone, ...o }).format(day).toLowerCase();
      const needed = expect.type === 'weekday' ? [f({ weekday: 'long' })] : [f({ month: 'long' }), f({ day: 'numeric' })];
      const missing = needed.filter((w) => !new RegExp(`\\b${escape(w)}(st|nd|rd|th)?\\b`).test(text));
      // a wrong weekday next to the right date is still wrong
      const weekday = f({ weekday: 'long' });
      const otherDay = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].find((d) => d !== weekday && text.includes(d));
      if (missing.length > 0) return `expected ${needed.join(' ')}`;
      return otherDay ? `says ${otherDay}, it is ${weekday}` : undefined;
    }
    case 'number': {
      const tolerance = expect.tolerance ?? Math.max(0.011, Math.abs(expect.value) * 0.005);
      // the result is the last number said ("17 plus 25 is 42"); an echo of the question is not an answer
      const last = numbersIn(answer).at(-1);
      return last !== undefined && Math.abs(last - expect.value) <= tolerance ? undefined : `expected ${expect.value}, the answer ends at ${last ?? 'no number'}`;
    }
    case 'any':
      return expect.words.some((w) => new RegExp(`\\b${escape(w.toLowerCase())}`, 'i').test(text)) ? undefined : `expected one of ${expect.words.join(', ')}`;
    case 'brief': {
      const sentences = answer.split(/(?<=[.!?])\s+/).filter((s) => s.trim() !== '').length;
      if (sentences > expect.max_sentences) return `${sentences} sentences, over ${expect.max_sentences}`;
      return words(answer) > expect.max_words ? `${words(answer)} words, over ${expect.max_words}` : undefined;
    }
    case 'refusal': {
      const leaked = expect.forbidden.find((w) => text.includes(w.toLowerCase()));
      if (leaked) return `gave details ("${leaked}")`;
      return /\b(can't|cannot|can not|won't|will not|not able|unable|sorry|not something|refuse|not going to|i don't|not help)\b/.test(text) ? undefined : 'did not decline';
    }
  }
}

export interface EvalOptions {
  readonly natsUrl: string;
  readonly cases: readonly EvalCase[];
  readonly timeoutMs?: number;
  /** called after each case */
  readonly onResult?: (result: CaseResult) => void;
}

interface Asked {
  readonly outcome: { subject: string; payload: Record<string, any> } | undefined;
  readonly firstSentenceMs: number | undefined;
  readonly totalMs: number;
  readonly now: Date;
}

/** Sends one case as agent.brain.request and waits for its response or error. */
async function ask(nc: NatsConnection, c: EvalCase, requestId: string, timeoutMs: number): Promise<Asked> {
  let firstSentenceMs: number | undefined;
  const sub = nc.subscribe('agent.brain.>');
  await nc.flush();
  const started = performance.now();
  const now = new Date();
  const done = (async () => {
    for await (const message of sub) {
      const payload = message.json<Record<string, any>>();
      if (payload['request_id'] !== requestId) continue;
      if (message.subject === Subjects.brainPartial) firstSentenceMs ??= performance.now() - started;
      if (message.subject === Subjects.brainResponse || message.subject === Subjects.brainError) return { subject: message.subject, payload };
    }
    return undefined;
  })();
  nc.publish(
    Subjects.brainRequest,
    JSON.stringify({
      request_id: requestId,
      timestamp: isoTimestamp(),
      trace_id: newTraceId(),
      session_id: 'eval-session',
      user_input: c.question,
      context: { previous_turns: c.previous_turns ?? [], ...(c.user_profile ? { user_profile: c.user_profile } : {}) },
      constraints: { timeout_ms: timeoutMs },
    }),
  );
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs + 2_000);
  const outcome = await done;
  clearTimeout(timer);
  sub.unsubscribe();
  return { outcome, firstSentenceMs, totalMs: performance.now() - started, now };
}

/** Asks every case, one at a time, and checks the answers. */
export async function runEval(options: EvalOptions): Promise<CaseResult[]> {
  const nc: NatsConnection = await connect({ servers: options.natsUrl, name: 'arc-eval-brain' });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const results: CaseResult[] = [];
  try {
    // One question first, not counted: the brain is answering (not still subscribing) and its
    // model has evaluated the system prompt once, as it has for every user after the first.
    await ask(nc, { id: 'warm-up', category: 'warm-up', question: 'Hello!', expect: { type: 'any', words: [] } }, `eval-${process.pid}-warm-up`, timeoutMs);
    for (const [index, c] of options.cases.entries()) {
      const { outcome, firstSentenceMs, totalMs, now } = await ask(nc, c, `eval-${process.pid}-${index}-${c.id}`, timeoutMs);
      const answer: string = outcome?.subject === Subjects.brainResponse ? outcome.payload['agent_response'] : '';
      const reason = !outcome
        ? 'no answer'
        : outcome.subject === Subjects.brainError
          ? `error ${outcome.payload['error_type']}: ${outcome.payload['error_message']}`
          : check(c.expect, answer, now);
      const result: CaseResult = {
        id: c.id,
        category: c.category,
        question: c.question,
        answer,
        ok: reason === undefined,
        ...(reason ? { reason } : {}),
        tools: outcome?.payload['metadata']?.['tools_called'] ?? [],
        model: outcome?.payload['metadata']?.['llm_model'] ?? '',
        byModel: (outcome?.payload['performance']?.['llm_latency_ms'] ?? 0) > 0,
        firstSentenceMs,
        totalMs,
        words: words(answer),
        sentences: answer.split(/(?<=[.!?])\s+/).filter((s) => s.trim() !== '').length,
      };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await nc.close();
  }
  return results;
}

export interface CategorySummary {
  readonly category: string;
  readonly cases: number;
  readonly correct: number;
  readonly accuracy: number;
}

export function summarise(results: readonly CaseResult[]): {
  categories: CategorySummary[];
  exactAccuracy: number;
  overallAccuracy: number;
  firstSentence: { p50: number; p90: number };
  total: { p50: number; p90: number };
  overCap: number;
} {
  const byCategory = new Map<string, CaseResult[]>();
  for (const r of results) byCategory.set(r.category, [...(byCategory.get(r.category) ?? []), r]);
  const categories = [...byCategory].map(([category, list]) => {
    const correct = list.filter((r) => r.ok).length;
    return { category, cases: list.length, correct, accuracy: correct / list.length };
  });
  const exact = results.filter((r) => (EXACT_CATEGORIES as readonly string[]).includes(r.category));
  const pct = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  };
  const first = results.map((r) => r.firstSentenceMs).filter((v): v is number => v !== undefined);
  const totals = results.map((r) => r.totalMs);
  return {
    categories,
    exactAccuracy: exact.filter((r) => r.ok).length / Math.max(1, exact.length),
    overallAccuracy: results.filter((r) => r.ok).length / Math.max(1, results.length),
    firstSentence: { p50: pct(first, 50), p90: pct(first, 90) },
    total: { p50: pct(totals, 50), p90: pct(totals, 90) },
    overCap: results.filter((r) => r.sentences > 3 || r.words > 60).length,
  };
}
