export class BusError extends Error {
  override name = 'BusError';
}

export class PayloadTooLargeError extends BusError {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly subject: string,
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(`payload for ${subject} is ${sizeBytes} bytes, over the server's max_payload of ${maxBytes} bytes; nothing was sent`);
  }
}

export class BusClosedError extends BusError {
  override readonly name = 'BusClosedError';
  constructor(readonly subject: string) {
    super(`cannot publish to ${subject}: the bus is closed`);
  }
}

export class BusConnectError extends BusError {
  override readonly name = 'BusConnectError';
  constructor(
    readonly servers: string,
    cause: unknown,
  ) {
    super(`cannot connect to NATS at ${servers}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export class NoRespondersError extends BusError {
  override readonly name = 'NoRespondersError';
  constructor(readonly subject: string) {
    super(`no subscriber for request on ${subject}`);
  }
}

/** The NATS user may not use this subject (a tenant's credentials allow its own namespace only). */
export class PermissionDeniedError extends BusError {
  override readonly name = 'PermissionDeniedError';
  constructor(
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(`the NATS user may not send to ${subject} (permissions violation); nothing was sent`, options);
  }
}

export class RequestTimeoutError extends BusError {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to request on ${subject} within ${timeoutMs} ms`);
  }
}

/** A subject, or a payload for it, that ARC does not allow: nothing was sent. */
abstract class RefusedError extends BusError {
  constructor(
    readonly subject: string,
    /** what is wrong, naming the field or token at fault */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A payload (or a reply) that does not match its subject's schema, e.g. "constraints.max_tokens: must be >= 1 (got -1)". */
export class InvalidPayloadError extends RefusedError {
  override readonly name = 'InvalidPayloadError';
  constructor(subject: string, reason: string, options?: { cause?: unknown }) {
    super(subject, reason, `invalid payload for ${subject}: ${reason}`, options);
  }
}

/** A subject ARC does not allow (empty tokens, wildcards where none may be, other characters). */
export class BadSubjectError extends RefusedError {
  override readonly name = 'BadSubjectError';
  constructor(subject: string, reason: string, options?: { cause?: unknown }) {
    super(subject, reason, `invalid subject "${subject}": ${reason}`, options);
  }
}

/** No worker took a sticky-routed message: nobody subscribes to the queue group, or nobody answered in time. */
export class NoWorkerError extends BusError {
  override readonly name = 'NoWorkerError';
  constructor(
    readonly subject: string,
    readonly key: string,
    cause: unknown,
  ) {
    super(`no worker took the ${subject} message for "${key}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
