import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static } from '@sinclair/typebox';
import { DeadLetterSchema, ReplySchemas, SubjectSchemas, type DeadLetter } from './schemas.js';
import {
  isDeadLetterSubject,
  isKnownSubject,
  eventSubjectOf,
  requestSubjectOf,
  type KnownSubject,
  type OwnerEventSubject,
  type OwnerSubject,
  type RequestSubject,
  type RoutableSubject,
  type WorkerSubject,
} from './subjects.js';

/** The known subject whose schema governs `subject`: itself, the request subject a worker subject targets, or the event an owner subject copies. */
export type SchemaSubjectOf<S extends RoutableSubject> = S extends KnownSubject
  ? S
  : S extends WorkerSubject
    ? { [R in RequestSubject]: S extends WorkerSubject<R> ? R : never }[RequestSubject]
    : { [E in OwnerEventSubject]: S extends OwnerSubject<E> ? E : never }[OwnerEventSubject];

/** The payload type carried on a subject. */
export type PayloadOf<S extends RoutableSubject> = Static<(typeof SubjectSchemas)[SchemaSubjectOf<S>]>;

/** The reply to a request subject. */
export type ReplyOf<S extends RequestSubject> = Static<(typeof ReplySchemas)[S]>;

/** What a publisher passes: the bus fills `timestamp` and `trace_id` when they are absent. */
export type PublishInput<S extends RoutableSubject> = Omit<PayloadOf<S>, 'timestamp' | 'trace_id'> & {
  timestamp?: string;
  trace_id?: string;
};

/** The known subject whose schema applies to a concrete subject, if any. */
export function schemaSubjectOf(subject: string): KnownSubject | undefined {
  if (isKnownSubject(subject)) return subject;
  return requestSubjectOf(subject) ?? eventSubjectOf(subject);
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: string };

export class PayloadValidationError extends Error {
  override readonly name = 'PayloadValidationError';
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`invalid payload for ${subject}: ${reason}`);
  }
}

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext resolution.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

// unicode: false — string lengths in UTF-16 units (String.length), as JavaScript counts them;
// counting code points costs O(n) per string on every message.
// Ajv marks `unicode` deprecated but still honours it; its notice would be printed by every
// process that validates, so that one line is filtered out of Ajv's logger.
const ajvLogger = {
  log: console.log,
  error: console.error,
  warn: (...args: unknown[]) => {
    if (!String(args[0]).includes('option unicode')) console.warn(...args);
  },
};
const ajv = new Ajv({ allErrors: false, strict: false, verbose: true, unicode: false, logger: ajvLogger });
addFormats(ajv);
useFastDateTime(ajv);
ajv.addKeyword({
  keyword: 'maxDepth',
  type: 'object',
  schemaType: 'number',
  errors: false,
  validate: (max: number, data: unknown) => depthOf(data, max + 1) <= max,
});

/**
 * ajv-formats' "date-time" (RFC 3339, full mode) splits the string and runs two regexes:
 * ~0.5 µs per timestamp, paid on every publish and every receive. Timestamps ARC writes are
 * "YYYY-MM-DDTHH:MM:SS[.fraction]Z"; those are checked here character by character (digits,
 * separators, month 1–12, day within the month incl. leap years, 00:00:00–23:59:59). Only a
 * sure "valid" is answered here; anything else (offsets, lowercase, leap seconds, errors) goes
 * to ajv-formats' own check, so the accepted set is exactly ajv-formats'.
 */
function useFastDateTime(instance: Ajv): void {
  const general = instance.formats['date-time'] as { validate: (s: string) => boolean; compare?: (a: string, b: string) => number | undefined };
  const fullCheck = general.validate;
  instance.addFormat('date-time', {
    type: 'string',
    validate: (text: string) => isCanonicalUtcDateTime(text) || fullCheck(text),
    ...(general.compare ? { compare: general.compare } : {}),
  });
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** true only for a valid "YYYY-MM-DDTHH:MM:SS[.d+]Z" (seconds 00–59); false means "ask the full check". */
export function isCanonicalUtcDateTime(text: string): boolean {
  const length = text.length;
  if (length < 20 || text.charCodeAt(length - 1) !== 90 /* Z */) return false;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 /* T */) return false;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return false;
  if (length > 20) {
    // ".d+" between the seconds and the Z
    if (length < 22 || text.charCodeAt(19) !== 46 || digitsAt(text, 20, length - 21) < 0) return false;
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month]!);
}

/** Nesting depth, stopping at `stopAt`. Walks own enumerable keys without allocating (Object.values did). */
function depthOf(value: unknown, stopAt: number, depth = 0): number {
  if (depth >= stopAt || value === null || typeof value !== 'object') return depth;
  let deepest = depth + 1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && deepest < stopAt; i++) deepest = Math.max(deepest, depthOf(value[i], stopAt, depth + 1));
    return deepest;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    deepest = Math.max(deepest, depthOf(record[key], stopAt, depth + 1));
    if (deepest >= stopAt) break;
  }
  return deepest;
}

const validators = new Map<string, ValidateFunction>();
for (const [subject, schema] of Object.entries(SubjectSchemas)) validators.set(subject, ajv.compile(schema));
const deadLetterValidator = ajv.compile(DeadLetterSchema);
const replyValidators = new Map<string, ValidateFunction>();
for (const [subject, schema] of Object.entries(ReplySchemas)) replyValidators.set(subject, ajv.compile(schema));

/** The validator for a concrete subject: a known subject or worker subject, or any `dlq.…` subject. */
function validatorFor(subject: string): ValidateFunction | undefined {
  const schemaSubject = schemaSubjectOf(subject);
  if (schemaSubject) return validators.get(schemaSubject);
  if (isDeadLetterSubject(subject)) return deadLetterValidator;
  return undefined;
}

/** Validates the reply to a request sent on `subject` (a request subject or its worker-targeted form). */
export function validateReply(subject: string, value: unknown): ValidationResult<unknown> {
  const schemaSubject = schemaSubjectOf(subject);
  const validate = schemaSubject ? replyValidators.get(schemaSubject) : undefined;
  if (!validate) return { ok: false, error: `subject "${subject}" does not take requests` };
  if (validate(value)) return { ok: true, value };
  return { ok: false, error: firstError(validate) };
}

export function hasSchema(subject: string): boolean {
  return validatorFor(subject) !== undefined;
}

/** "constraints.max_tokens: must be >= 1" — names the field at fault. */
export function describeValidationError(error: ErrorObject): string {
  const path = error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return `${path ? `${path}.` : ''}${missing}: is required`;
  }
  if (error.keyword === 'maxDepth') return `${path || '(root)'}: nested deeper than ${String(error.schema)} levels`;
  if (error.keyword === 'maxLength' && typeof error.data === 'string') {
    return `${path}: ${error.message ?? 'is too long'} (got ${error.data.length} characters)`;
  }
  if (error.keyword === 'anyOf' && path === '') {
    const alternatives = (error.schema as { required?: string[] }[]).map((s) => s.required?.join('+')).join(' or ');
    return `one of ${alternatives}: is required`;
  }
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  const detail = allowed ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : error.message ?? 'is invalid';
  return `${path || '(root)'}: ${detail}${describeValue(error.data)}`;
}

/** " (got -1)": the offending value, shortened, so logs show what was sent. */
function describeValue(value: unknown): string {
  if (value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return ` (got ${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

function firstError(validate: ValidateFunction): string {
  const errors = validate.errors ?? [];
  const rootAlternatives = errors.find((e) => e.keyword === 'anyOf' && e.instancePath === '');
  if (rootAlternatives) return describeValidationError(rootAlternatives);
  // Literal unions report one error per alternative; the enum-like summary is clearer.
  const union = errors.find((e) => e.keyword === 'anyOf' && e.instancePath !== '');
  if (union) {
    const literals = errors.filter((e) => e.keyword === 'const' && e.instancePath === union.instancePath);
    if (literals.length > 0) {
      const allowed = literals.map((e) => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue));
      return `${union.instancePath.slice(1).replaceAll('/', '.')}: must be one of ${allowed.join(', ')}${describeValue(union.data)}`;
    }
  }
  return errors[0] ? describeValidationError(errors[0]) : 'is invalid';
}

/** Validates a decoded payload against the schema of `subject`. Never throws. */
export function validatePayload<S extends RoutableSubject>(subject: S, value: unknown): ValidationResult<PayloadOf<S>>;
export function validatePayload(subject: string, value: unknown): ValidationResult<unknown>;
export function validatePayload(subject: string, value: unknown): ValidationResult<unknown> {
  const validate = validatorFor(subject);
  if (!validate) return { ok: false, error: `no schema for subject "${subject}"` };
  if (validate(value)) return { ok: true, value };
  return { ok: false, error: firstError(validate) };
}

/** Like validatePayload, but throws PayloadValidationError. */
export function assertPayload<S extends RoutableSubject>(subject: S, value: unknown): PayloadOf<S> {
  const result = validatePayload(subject as string, value);
  if (!result.ok) throw new PayloadValidationError(subject, result.error);
  return result.value as PayloadOf<S>;
}

export function validateDeadLetter(value: unknown): ValidationResult<DeadLetter> {
  if (deadLetterValidator(value)) return { ok: true, value: value as DeadLetter };
  return { ok: false, error: firstError(deadLetterValidator) };
}
