/**
 * Typed model failures. `kind` maps one-to-one onto the seed-002 `error_type` values the
 * worker publishes, so classification happens once, here, next to the code that saw the error.
 */

export type ModelFailureKind = 'timeout' | 'rate_limited' | 'upstream_error' | 'invalid_request';

export class ModelCallError extends Error {
  override readonly name = 'ModelCallError';
  readonly kind: ModelFailureKind;
  /** a later attempt may succeed (429, 5xx, connection reset, malformed stream) */
  readonly retryable: boolean;
  /** HTTP status when the endpoint answered with one */
  readonly status: number | undefined;
  /** server hint from Retry-After / retry-after-ms, in ms */
  readonly retryAfterMs: number | undefined;
  /** attempts retried before this error became final (set by the retry loop) */
  retries = 0;

  constructor(
    kind: ModelFailureKind,
    message: string,
    options: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The local model is not usable (binary or weights missing); the worker refuses to start. */
export class ModelUnavailableError extends Error {
  override readonly name = 'ModelUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
