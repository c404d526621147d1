import { randomFillSync, randomUUID } from 'node:crypto';

/**
 * W3C trace-context trace id: 32 lowercase hex characters, never all zeros. It is also the
 * OpenTelemetry trace id of the turn (a UUID's dashes dropped), and the turn's root span id is its
 * first 16 hex digits: the contract carries no span id, each worker derives the parent from this. 128 random bits
 * cut from a 4 KB block of crypto-random bytes (one randomFillSync per 256 ids): ~5× cheaper
 * than randomUUID().replaceAll('-', '') on the publish path, and 6 more random bits.
 */
export function newTraceId(): string {
  if (traceIdOffset + 16 > traceIdPool.length) {
    randomFillSync(traceIdPool);
    traceIdOffset = 0;
  }
  const id = traceIdPool.toString('hex', traceIdOffset, traceIdOffset + 16);
  traceIdOffset += 16;
  return id === ALL_ZEROS ? newTraceId() : id;
}
const traceIdPool = Buffer.alloc(4096);
let traceIdOffset = traceIdPool.length;
const ALL_ZEROS = '0'.repeat(32);

export function newRequestId(prefix = 'req'): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * Wall-clock time in ms with sub-millisecond precision (for hop latency between processes).
 * performance.timeOrigin is the wall clock (µs) read together with the monotonic clock at
 * process start, and performance.now() runs on the machine-wide monotonic clock, so processes
 * on one machine agree to a few µs. Measured here (Node 20, 6 forked processes, minimum IPC
 * one-way latency seen by the child): timeOrigin-based 27–37 µs in every process, equal to
 * the hrtime-only measurement (32 µs); the former calibration on the Date.now() tick edge
 * disagreed by -618…+235 µs between processes on a loaded machine (hops measured as 0).
 */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * ISO-8601 UTC timestamp with microseconds ("2025-12-14T13:30:00.000123Z"). Still plain
 * ISO-8601 for every consumer; ARC consumers read the extra digits for sub-ms hop latency.
 * The "YYYY-MM-DDTHH:MM:SS." part is formatted once per second and reused (~0.8 → ~0.2 µs).
 */
export function isoTimestamp(epochMs: number = preciseNowMs()): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== formattedSecond) {
    const iso = new Date(second * 1000).toISOString();
    // years outside 0000–9999 ("+275760-…") take the general path
    if (iso.length !== 24) return generalIsoTimestamp(epochMs);
    formattedSecond = second;
    formattedPrefix = iso.slice(0, 20);
  }
  const micros = Math.min(999_999, Math.floor((epochMs - second * 1000) * 1000));
  return `${formattedPrefix}${String(micros).padStart(6, '0')}Z`;
}
let formattedSecond = Number.NaN;
let formattedPrefix = '';

function generalIsoTimestamp(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  return `${new Date(wholeMs).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/** Epoch ms of an ISO-8601 timestamp, keeping digits below the millisecond; NaN when unparseable. */
export function parseTimestampMs(timestamp: string): number {
  // Fast path for what isoTimestamp writes, "YYYY-MM-DDTHH:MM:SS.ffffffZ": the whole seconds are
  // parsed once per second (Date.parse), the fraction digit by digit.
  if (timestamp.length === 27 && timestamp.charCodeAt(19) === 46 /* . */ && timestamp.charCodeAt(26) === 90 /* Z */) {
    let secondMs: number;
    if (parsedPrefix !== '' && timestamp.startsWith(parsedPrefix)) secondMs = parsedSecondMs;
    else {
      const prefix = timestamp.slice(0, 19);
      secondMs = Date.parse(`${prefix}Z`);
      if (Number.isNaN(secondMs)) return secondMs;
      parsedPrefix = prefix;
      parsedSecondMs = secondMs;
    }
    let micros = 0;
    for (let i = 20; i < 26; i++) {
      const digit = timestamp.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return generalParseTimestampMs(timestamp);
      micros = micros * 10 + digit;
    }
    return secondMs + micros / 1000;
  }
  return generalParseTimestampMs(timestamp);
}
let parsedPrefix = '';
let parsedSecondMs = 0;

function generalParseTimestampMs(timestamp: string): number {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) return ms;
  const fraction = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(timestamp)?.[1];
  if (!fraction || fraction.length <= 3) return ms;
  return ms + Number(`0.${fraction.slice(3)}`);
}
