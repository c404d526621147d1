import { setTimeout as sleep } from 'node:timers/promises';
import { ModelCallError } from './errors.js';

export interface RetryPolicy {
  /** retries after the first attempt (so maxRetries + 1 attempts at most) */
  readonly maxRetries: number;
  /** first backoff; doubles each retry */
  readonly baseDelayMs: number;
  /** cap on one backoff */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 2_000 };

/** Exponential backoff with jitter in [50 %, 100 %] so many workers do not retry in lockstep. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(exponential * (0.5 + random() / 2));
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly signal: AbortSignal;
  /** performance.now() value after which no new attempt may start */
  readonly deadline: number;
  /** false once an attempt already streamed text out: retrying would repeat spoken sentences */
  readonly canRetry: () => boolean;
  readonly onRetry?: (error: ModelCallError, retry: number) => void;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, runs out of retries, or the
 * next backoff would not fit before the deadline. The final error carries `retries`.
 */
export async function withRetries<T>(
  attempt: (retry: number) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; retries: number }> {
  for (let retry = 0; ; retry++) {
    try {
      return { value: await attempt(retry), retries: retry };
    } catch (error) {
      if (!(error instanceof ModelCallError)) throw error;
      error.retries = retry;
      const mayRetry =
        error.retryable && retry < options.policy.maxRetries && options.canRetry() && !options.signal.aborted;
      if (!mayRetry) throw error;
      const delay = Math.max(backoffDelayMs(options.policy, retry), error.retryAfterMs ?? 0);
      // a retry that cannot even start before the deadline only delays the fallback answer
      if (performance.now() + delay >= options.deadline) throw error;
      options.onRetry?.(error, retry + 1);
      try {
        await sleep(delay, undefined, { signal: options.signal });
      } catch {
        throw error; // aborted while backing off: the caller reports the timeout
      }
    }
  }
}
