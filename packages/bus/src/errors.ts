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

export class RequestTimeoutError extends BusError {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to request on ${subject} within ${timeoutMs} ms`);
  }
}
