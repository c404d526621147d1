/**
 * The sending side of TTS room affinity (see `ttsWorkerRequestSubject` in @arc/contracts).
 * Every request is a NATS request, acknowledged at once by the worker that takes it. The first
 * request of a room goes to the queue group; the acknowledgement names the worker, and later
 * requests of that room go straight to it, one after another, so a room hears one voice, in
 * order. If that worker is gone (no responders, no ack), the room goes back to the queue group.
 */
import { NoRespondersError, RequestTimeoutError, type Bus } from '@arc/bus';
import type { PublishInput, TtsAccepted, TtsWorkerRequestSubject } from '@arc/contracts';

export interface TtsRouterOptions {
  /** wait this long for a worker's acknowledgement */
  ackTimeoutMs?: number;
}

export class NoTtsWorkerError extends Error {
  override readonly name = 'NoTtsWorkerError';
  constructor(readonly room: string, cause: unknown) {
    super(`no TTS worker took the request for room "${room}": ${(cause as Error).message}`, { cause });
  }
}

export class TtsRoomRouter {
  private readonly workerOfRoom = new Map<string, TtsWorkerRequestSubject>();
  private readonly chainOfRoom = new Map<string, Promise<unknown>>();
  private readonly ackTimeoutMs: number;

  constructor(
    private readonly bus: Bus,
    options: TtsRouterOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2_000;
  }

  /** Sends one request; resolves with the acknowledgement once a worker has taken it. */
  send(request: PublishInput<'agent.tts.request'>): Promise<TtsAccepted> {
    const room = request.target_room;
    const previous = this.chainOfRoom.get(room) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.deliver(request));
    this.chainOfRoom.set(room, next);
    void next.finally(() => {
      if (this.chainOfRoom.get(room) === next) this.chainOfRoom.delete(room);
    }).catch(() => {});
    return next;
  }

  /** Which worker subject holds a room, if known. */
  workerFor(room: string): string | undefined {
    return this.workerOfRoom.get(room);
  }

  /** Forget a room (session over): its next request goes to the queue group. */
  release(room: string): void {
    this.workerOfRoom.delete(room);
  }

  private async deliver(request: PublishInput<'agent.tts.request'>): Promise<TtsAccepted> {
    const room = request.target_room;
    const held = this.workerOfRoom.get(room);
    if (held) {
      try {
        return (await this.bus.request(held, request, { timeoutMs: this.ackTimeoutMs })).reply;
      } catch (error) {
        if (!(error instanceof NoRespondersError || error instanceof RequestTimeoutError)) throw error;
        this.workerOfRoom.delete(room); // that worker is gone; let the queue group pick another
      }
    }
    try {
      const { reply } = await this.bus.request('agent.tts.request', request, { timeoutMs: this.ackTimeoutMs });
      this.workerOfRoom.set(room, reply.worker_subject as TtsWorkerRequestSubject);
      return reply;
    } catch (error) {
      if (error instanceof NoRespondersError || error instanceof RequestTimeoutError) throw new NoTtsWorkerError(room, error);
      throw error;
    }
  }
}
