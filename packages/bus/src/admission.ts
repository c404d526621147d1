/**
 * Admission by queue-group membership: a worker is in the queue group of a subject while it can
 * take more (rooms, sessions) and leaves it at its maximum, so the group's next message goes to
 * another member; when no member is left, a request finds no responders at once instead of
 * waiting. Changes are serialized: an unsubscribe finishes before a later subscribe starts.
 */
import type { PayloadOf, RoutableSubject } from '@arc/contracts';
import type { Bus, BusSubscription, Handler } from './bus.js';

export interface AdmissionOptions<S extends RoutableSubject> {
  subject: S;
  queue: string;
  handler: Handler<PayloadOf<S>>;
  /** true at the maximum: the worker takes nothing new */
  isFull: () => boolean;
  /** told when the worker leaves or rejoins the group */
  onChange?: (admitting: boolean) => void;
}

export class Admission<S extends RoutableSubject> {
  private subscription: BusSubscription | undefined;
  private changing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly options: AdmissionOptions<S>,
  ) {}

  get admitting(): boolean {
    return this.subscription !== undefined;
  }

  /** Join or leave the queue group as the worker's fullness now says; resolves once done. */
  update(): Promise<void> {
    this.changing = this.changing.then(async () => {
      const full = this.closed || this.options.isFull();
      if (full && this.subscription) {
        const leaving = this.subscription;
        this.subscription = undefined;
        this.options.onChange?.(false);
        await leaving.unsubscribe();
      } else if (!full && !this.subscription) {
        this.subscription = this.bus.subscribe(this.options.subject, this.options.handler, { queue: this.options.queue });
        await this.bus.flush();
        this.options.onChange?.(true);
      }
    });
    return this.changing;
  }

  /** Leave the group for good. */
  close(): Promise<void> {
    this.closed = true;
    return this.update();
  }
}
