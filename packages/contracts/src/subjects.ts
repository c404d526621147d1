/**
 * NATS subjects of ARC. Names follow seed 002: `<domain>.<service>.<entity>.<action>`,
 * at most 8 tokens. Additions (cancel, partial, per-worker errors, dead letters) keep the shape.
 */

import { TENANT_SUBJECT_PREFIX, tenantSubject } from './tenants.js';

export const Subjects = {
  voiceTrackPublished: 'agent.voice.track.published',
  voiceTrackUnpublished: 'agent.voice.track.unpublished',
  voiceSessionStarted: 'agent.voice.session.started',
  voiceSessionEnded: 'agent.voice.session.ended',
  voiceError: 'agent.voice.error',
  voiceTranscriptInterim: 'agent.voice.transcript.interim',
  brainRequest: 'agent.brain.request',
  brainPartial: 'agent.brain.partial',
  brainResponse: 'agent.brain.response',
  brainError: 'agent.brain.error',
  brainCancel: 'agent.brain.cancel',
  ttsRequest: 'agent.tts.request',
  ttsCompleted: 'agent.tts.completed',
  ttsCancel: 'agent.tts.cancel',
  ttsError: 'agent.tts.error',
  ttsNotice: 'agent.tts.notice',
  healthHeartbeat: 'system.health.heartbeat',
  serviceError: 'system.service.error',
  configChanged: 'system.config.changed',
} as const;

/**
 * Subjects that may be sent as NATS requests: the receiver acknowledges the message with a reply
 * (its schema is in `ReplySchemas`). A TTS request's reply says which worker holds the room; a
 * track event's reply says which voice worker took the session. Plain publishes still work (the
 * seed's `nats pub agent.voice.track.published …`): nobody is waiting for the answer then.
 */
export const REQUEST_SUBJECTS = [Subjects.ttsRequest, Subjects.voiceTrackPublished] as const;
export type RequestSubject = (typeof REQUEST_SUBJECTS)[number];

/** `a.b.c` → ["a.b", "c"]: everything before the last token, and the last token. */
type SplitLast<S extends string> = S extends `${infer Head}.${infer Tail}`
  ? Tail extends `${string}.${string}`
    ? SplitLast<Tail> extends [infer H extends string, infer L extends string]
      ? [`${Head}.${H}`, L]
      : never
    : [Head, Tail]
  : never;

/**
 * Worker-targeted subjects (the idea of seed 000's node-targeted subjects: one request, one
 * node). The first message of a conversation goes to a request subject's queue group; the
 * worker that takes it replies with its own subject, `<prefix>.worker.<instance_id>.<action>`
 * (`agent.tts.request` → `agent.tts.worker.tts-1.request`), and later messages go there, so one
 * worker serves a room, in order. A worker subject carries its request subject's schema.
 */
export type WorkerSubject<S extends RequestSubject = RequestSubject> = `${SplitLast<S>[0]}.worker.${string}.${SplitLast<S>[1]}`;

export function workerSubject<S extends RequestSubject>(subject: S, instanceId: string): WorkerSubject<S> {
  return targeted(subject, 'worker', instanceId) as WorkerSubject<S>;
}

/** The request subject a worker subject targets (`agent.tts.worker.x.request` → `agent.tts.request`), if it is one. */
export function requestSubjectOf(subject: string): RequestSubject | undefined {
  return untargeted(subject, 'worker', REQUEST_SUBJECTS);
}

/** `a.b.action` → `a.b.<infix>.<instanceId>.action` (worker and owner subjects). */
function targeted(subject: string, infix: string, instanceId: string): string {
  const cut = subject.lastIndexOf('.');
  const result = `${subject.slice(0, cut)}.${infix}.${instanceId}${subject.slice(cut)}`;
  if (!TOKEN.test(instanceId)) throw new InvalidSubjectError(result, `instance id "${instanceId}" must be one token of A-Z a-z 0-9 _ -`);
  return result;
}

/** The subject among `bases` that `subject` targets through `infix`, if any. */
function untargeted<B extends string>(subject: string, infix: string, bases: readonly B[]): B | undefined {
  const tokens = subject.split('.');
  const n = tokens.length;
  if (n < 4 || tokens[n - 3] !== infix || !TOKEN.test(tokens[n - 2]!)) return undefined;
  const base = [...tokens.slice(0, n - 3), tokens[n - 1]].join('.');
  return (bases as readonly string[]).includes(base) ? (base as B) : undefined;
}

/**
 * Owner subjects (targeted replies). A voice worker names itself in its brain and TTS requests
 * (`owner_instance`); the events answering them are published to the seed subject, for monitors
 * and the audit, and to `<prefix>.to.<owner_instance>.<action>` (`agent.brain.response` →
 * `agent.brain.to.voice-1.response`), the only copy the owning voice worker subscribes to. So a
 * voice worker receives its own sessions' events, not every room's. An owner subject carries its
 * event subject's schema; the audit keeps the seed subject's copy only.
 */
export const OWNER_EVENT_SUBJECTS = [Subjects.brainPartial, Subjects.brainResponse, Subjects.brainError, Subjects.ttsCompleted, Subjects.ttsError] as const;
export type OwnerEventSubject = (typeof OWNER_EVENT_SUBJECTS)[number];
export type OwnerSubject<S extends OwnerEventSubject = OwnerEventSubject> = `${SplitLast<S>[0]}.to.${string}.${SplitLast<S>[1]}`;

export function ownerSubject<S extends OwnerEventSubject>(subject: S, instanceId: string): OwnerSubject<S> {
  return targeted(subject, 'to', instanceId) as OwnerSubject<S>;
}

/** The event subject an owner subject copies (`agent.brain.to.x.response` → `agent.brain.response`), if it is one. */
export function eventSubjectOf(subject: string): OwnerEventSubject | undefined {
  return untargeted(subject, 'to', OWNER_EVENT_SUBJECTS);
}

export type SubjectKey = keyof typeof Subjects;
/** A concrete subject with a fixed schema (not a wildcard, not a dead letter). */
export type KnownSubject = (typeof Subjects)[SubjectKey];
export const KNOWN_SUBJECTS: readonly KnownSubject[] = Object.values(Subjects);
/** Subjects a payload may be published to: the known ones plus worker and owner subjects. */
export type RoutableSubject = KnownSubject | WorkerSubject | OwnerSubject;

/** Wildcard patterns operators use (seed 002 "Wildcard Subscriptions" plus dead letters). */
export const Wildcards = {
  allAgent: 'agent.>',
  voice: 'agent.voice.>',
  brain: 'agent.brain.>',
  tts: 'agent.tts.>',
  trackEvents: 'agent.*.track.>',
  workerSubjects: 'agent.*.worker.*.*',
  ownerSubjects: 'agent.*.to.*.*',
  agentErrors: '*.*.error',
  systemErrors: 'system.*.error',
  deadLetters: 'dlq.>',
  everything: '>',
} as const;

export const MAX_SUBJECT_TOKENS = 8;
export const DEAD_LETTER_PREFIX = 'dlq';

/** Why a message was dead-lettered; the last token of `dlq.<subject>.<error_type>`. */
export const DeadLetterReasons = ['invalid_payload', 'unknown_subject', 'stale', 'handler_error'] as const;
export type DeadLetterReason = (typeof DeadLetterReasons)[number];

export class InvalidSubjectError extends Error {
  override readonly name = 'InvalidSubjectError';
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`invalid subject "${subject}": ${reason}`);
  }
}

// Letters, digits, '_' and '-' only: NATS allows more, but anything else (spaces, '.', control
// characters, '$') is a mistake in ARC subjects and breaks other-language clients and tooling.
const TOKEN = /^[A-Za-z0-9_-]+$/;

export interface SubjectCheckOptions {
  /** allow `*` tokens and a final `>` (for subscriptions) */
  wildcards?: boolean;
}

/** Throws InvalidSubjectError unless `subject` is a well-formed ARC subject. */
export function assertValidSubject(subject: string, options: SubjectCheckOptions = {}): void {
  if (typeof subject !== 'string' || subject.length === 0) throw new InvalidSubjectError(String(subject), 'empty');
  const tokens = subject.split('.');
  if (tokens.length > MAX_SUBJECT_TOKENS) {
    throw new InvalidSubjectError(subject, `${tokens.length} tokens, at most ${MAX_SUBJECT_TOKENS} allowed`);
  }
  tokens.forEach((token, index) => {
    if (token.length === 0) throw new InvalidSubjectError(subject, `token ${index + 1} is empty`);
    if (token === '*' || token === '>') {
      if (!options.wildcards) throw new InvalidSubjectError(subject, `wildcard "${token}" not allowed here`);
      if (token === '>' && index !== tokens.length - 1) {
        throw new InvalidSubjectError(subject, '">" must be the last token');
      }
      return;
    }
    if (!TOKEN.test(token)) {
      throw new InvalidSubjectError(subject, `token ${index + 1} "${token}" has characters other than A-Z a-z 0-9 _ -`);
    }
  });
}

export function isValidSubject(subject: string, options: SubjectCheckOptions = {}): boolean {
  try {
    assertValidSubject(subject, options);
    return true;
  } catch {
    return false;
  }
}

export function isKnownSubject(subject: string): subject is KnownSubject {
  return (KNOWN_SUBJECTS as readonly string[]).includes(subject);
}

/** `dlq.<original subject>.<reason>`; an original subject too long or malformed is replaced by `unroutable`. */
export function deadLetterSubject(originalSubject: string, reason: DeadLetterReason): string {
  const candidate = `${DEAD_LETTER_PREFIX}.${originalSubject}.${reason}`;
  return isValidSubject(candidate) ? candidate : `${DEAD_LETTER_PREFIX}.unroutable.${reason}`;
}

export function isDeadLetterSubject(subject: string): boolean {
  return subject.startsWith(`${DEAD_LETTER_PREFIX}.`);
}

/** Does a concrete subject match a subscription pattern with `*` and `>`? */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * The audit stream cannot listen on request subjects or worker subjects: a stream's interest
 * would stop NATS answering "no responders" when no worker is there, and requesters would wait
 * for a timeout instead of hearing at once. The bus sends a copy of those messages to
 * `audit.<subject>` instead; the stream keeps the copies and every other subject as it is.
 */
export const AUDIT_COPY_PREFIX = 'audit';

/** Is this subject sent as a request or to one worker (so audited through a copy)? */
export function isAuditedByCopy(subject: string): boolean {
  return (REQUEST_SUBJECTS as readonly string[]).includes(subject) || requestSubjectOf(subject) !== undefined;
}

/**
 * Subjects the audit stream listens on: every known subject except those audited by copy, the
 * copies, system.> and dlq.> — and the same in every tenant's namespace (`t.*.…`), so the
 * operator's audit keeps each tenant's conversations under their wire subjects.
 */
export function auditStreamSubjects(): string[] {
  const direct = KNOWN_SUBJECTS.filter((s) => s.startsWith('agent.') && !isAuditedByCopy(s));
  const subjects = [...direct, `${AUDIT_COPY_PREFIX}.>`, 'system.>', `${DEAD_LETTER_PREFIX}.>`];
  return [...subjects, ...subjects.map((subject) => tenantSubject('*', subject))];
}

/** `audit.agent.tts.request` → `agent.tts.request`, `t.acme.audit.agent.tts.request` → `t.acme.agent.tts.request`; other subjects unchanged. */
export function auditedSubject(storedSubject: string): string {
  const tokens = storedSubject.split('.');
  const at = tokens[0] === TENANT_SUBJECT_PREFIX && tokens.length > 2 ? 2 : 0;
  if (tokens[at] !== AUDIT_COPY_PREFIX) return storedSubject;
  tokens.splice(at, 1);
  return tokens.join('.');
}
