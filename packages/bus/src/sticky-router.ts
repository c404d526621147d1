/**
 * Sticky routing over NATS request/reply: one worker serves a key (a room), in order (the idea of
 * seed 000's node-targeted subjects). The first message for a key goes to the request subject's
 * queue group; the worker that takes it replies at once with its worker subject (see
 * `workerSubject` in @arc/contracts), and later messages for the key go straight there, one after
 * another. When that worker is gone — no responders, no reply in time — the key goes back to the
 * queue group and another worker takes it.
 */
import type { PublishInput, ReplyOf, RequestSubject, WorkerSubject } from '@arc/contracts';

/** Request subjects whose reply names the worker subject to send the key's later messages to. */
export type StickySubject = { [S in RequestSubject]: ReplyOf<S> extends { worker_subject: string } ? S : never }[RequestSubject];
import type { Bus } from './bus.js';
import { NoRespondersError, NoWorkerError, RequestTimeoutError } from './errors.js';

export interface StickyRouterOptions<S extends StickySubject> {
  subject: S;
  /** the key that sticks to one worker, e.g. the target room */
  keyOf: (input: PublishInput<S>) => string;
  /** wait this long for a worker's reply (default 2 s) */
  ackTimeoutMs?: number;
}

const workerGone = (error: unknown) => error instanceof NoRespondersError || error instanceof RequestTimeoutError;

export class StickyRouter<S extends StickySubject> {
  private readonly workerOfKey = new Map<string, WorkerSubject<S>>();
  private readonly chainOfKey = new Map<string, Promise<unknown>>();
  private readonly ackTimeoutMs: number;

  constructor(
    private readonly bus: Bus,
    private readonly options: StickyRouterOptions<S>,
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2_000;
  }

  /** Sends one message; resolves with the worker's reply once it has taken it. Throws NoWorkerError. */
  send(input: PublishInput<S>): Promise<ReplyOf<S>> {
    const key = this.options.keyOf(input);
    const previous = this.chainOfKey.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.deliver(key, input));
    this.chainOfKey.set(key, next);
    void next
      .finally(() => {
        if (this.chainOfKey.get(key) === next) this.chainOfKey.delete(key);
      })
      .catch(() => {});
    return next;
  }

  /** The worker subject that serves a key, if one does. */
  workerFor(key: string): WorkerSubject<S> | undefined {
    return this.workerOfKey.get(key);
  }

  /** Forget a key (its conversation is over): its next message goes to the queue group. */
  release(key: string): void {
    this.workerOfKey.delete(key);
  }

  private async deliver(key: string, input: PublishInput<S>): Promise<ReplyOf<S>> {
    const held = this.workerOfKey.get(key);
    if (held) {
      try {
        return (await this.bus.request(held, input, { timeoutMs: this.ackTimeoutMs })).reply;
      } catch (error) {
        if (!workerGone(error)) throw error;
        this.workerOfKey.delete(key); // that worker is gone; let the queue group pick another
      }
    }
    try {
      const { reply } = await this.bus.request(this.options.subject, input, { timeoutMs: this.ackTimeoutMs });
      this.workerOfKey.set(key, reply.worker_subject as WorkerSubject<S>);
      return reply;
    } catch (error) {
      if (workerGone(error)) throw new NoWorkerError(this.options.subject, key, error);
      throw error;
    }
  }
}
