/** Shared helpers of the brain tests (not part of the package API). */
import { connectBus, type Bus } from '@arc/bus';
import { newTraceId, Subjects, type BrainRequest } from '@arc/contracts';
import { collect, silentLogger } from '@arc/testkit';
import type { ScriptedReply, ScriptedRequest } from '@arc/testkit';

let counter = 0;

/** A valid request; `overrides` replace fields (use `undefined` to drop one). */
export function brainRequest(userInput: string, overrides: Partial<BrainRequest> = {}): BrainRequest {
  counter++;
  return {
    request_id: `req-test-${process.pid}-${counter}`,
    timestamp: new Date().toISOString(),
    trace_id: newTraceId(),
    user_id: 'user-123',
    session_id: 'session-456',
    conversation_id: 'conv-789',
    turn_index: 3,
    user_input: userInput,
    ...overrides,
  };
}

/**
 * Script keyed by the user's words: the n-th model call for an input gets the n-th reply of its
 * list (the last one repeats), so tool loops and retry sequences stay per request even when
 * requests run concurrently.
 */
export function scriptByInput(table: Record<string, ScriptedReply | readonly ScriptedReply[]>, fallback?: (request: ScriptedRequest) => ScriptedReply) {
  const seen = new Map<string, number>();
  return (request: ScriptedRequest): ScriptedReply => {
    const entry = table[request.lastUserMessage];
    if (entry === undefined) {
      if (fallback) return fallback(request);
      return { type: 'status', status: 400, message: `no script for "${request.lastUserMessage}"` };
    }
    const replies = Array.isArray(entry) ? (entry as readonly ScriptedReply[]) : [entry as ScriptedReply];
    const n = seen.get(request.lastUserMessage) ?? 0;
    seen.set(request.lastUserMessage, n + 1);
    return replies[Math.min(n, replies.length - 1)]!;
  };
}

export interface TurnOutcome {
  readonly partials: any[];
  readonly response: any | undefined;
  readonly error: any | undefined;
  /** publish → response/error received, ms */
  readonly elapsedMs: number;
}

/** A voice-worker stand-in: publishes requests and collects what comes back, per request_id. */
export class BrainClient {
  private constructor(
    readonly bus: Bus,
    private readonly observer: Awaited<ReturnType<typeof collect>>,
  ) {}

  static async connect(url: string): Promise<BrainClient> {
    const bus = await connectBus({ servers: url, service: 'arc-test-voice', logger: silentLogger });
    // an independent plain-NATS observer, so the bus under test does not grade itself
    const observer = await collect(url, 'agent.brain.>');
    return new BrainClient(bus, observer);
  }

  get messages() {
    return this.observer.messages;
  }

  /** messages about one request, in arrival order (indexed incrementally: 300 waiters poll this) */
  forRequest(requestId: string): { subject: string; payload: any }[] {
    const all = this.observer.messages;
    for (; this.indexed < all.length; this.indexed++) {
      const message = all[this.indexed]!;
      const id = message.payload?.request_id;
      if (typeof id !== 'string') continue;
      let list = this.byRequest.get(id);
      if (!list) this.byRequest.set(id, (list = []));
      list.push(message);
    }
    return [...(this.byRequest.get(requestId) ?? [])];
  }

  private indexed = 0;
  private readonly byRequest = new Map<string, { subject: string; payload: any }[]>();

  /** Publishes and waits until the response or error for it arrives (or `timeoutMs`). */
  async ask(request: BrainRequest | Record<string, unknown>, timeoutMs = 10_000, raw = false): Promise<TurnOutcome> {
    const requestId = (request as { request_id: string }).request_id;
    const started = performance.now();
    if (raw) this.bus.publishRaw(Subjects.brainRequest, JSON.stringify(request));
    else this.bus.publish(Subjects.brainRequest, request as BrainRequest);
    await this.bus.flush();
    const finalSubjects: string[] = [Subjects.brainResponse, Subjects.brainError];
    for (;;) {
      const mine = this.forRequest(requestId);
      const last = mine.find((m) => finalSubjects.includes(m.subject));
      if (last) {
        return {
          partials: mine.filter((m) => m.subject === Subjects.brainPartial).map((m) => m.payload),
          response: last.subject === Subjects.brainResponse ? last.payload : undefined,
          error: last.subject === Subjects.brainError ? last.payload : undefined,
          elapsedMs: performance.now() - started,
        };
      }
      if (performance.now() - started > timeoutMs) throw new Error(`no response or error for ${requestId} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async close(): Promise<void> {
    await this.observer.close();
    await this.bus.close(1_000);
  }
}
