/**
 * NATS subjects of ARC. Names follow seed 002: `<domain>.<service>.<entity>.<action>`,
 * at most 8 tokens. Additions (cancel, partial, per-worker errors, dead letters) keep the shape.
 */

export const Subjects = {
  voiceTrackPublished: 'agent.voice.track.published',
  voiceTrackUnpublished: 'agent.voice.track.unpublished',
  voiceSessionStarted: 'agent.voice.session.started',
  voiceSessionEnded: 'agent.voice.session.ended',
  voiceError: 'agent.voice.error',
  brainRequest: 'agent.brain.request',
  brainPartial: 'agent.brain.partial',
  brainResponse: 'agent.brain.response',
  brainError: 'agent.brain.error',
  ttsRequest: 'agent.tts.request',
  ttsCompleted: 'agent.tts.completed',
  ttsCancel: 'agent.tts.cancel',
  ttsError: 'agent.tts.error',
  healthHeartbeat: 'system.health.heartbeat',
  serviceError: 'system.service.error',
} as const;

/**
 * TTS room affinity (the idea of seed 000's node-targeted subjects: one request, one node, no
 * double-speaking). The first `agent.tts.request` for a room is a NATS *request* to the queue
 * group; the TTS worker that takes it replies at once with `TtsAccepted` naming its
 * `worker_subject`. Every later request for that room goes to that subject,
 * `agent.tts.worker.<instance_id>.request`, so one worker speaks in a room, in order. When the
 * worker disappears (no responders / timeout), the sender goes back to the queue group.
 */
export type TtsWorkerRequestSubject = `agent.tts.worker.${string}.request`;

export function ttsWorkerRequestSubject(instanceId: string): TtsWorkerRequestSubject {
  const subject = `agent.tts.worker.${instanceId}.request` as const;
  if (!TOKEN.test(instanceId)) throw new InvalidSubjectError(subject, `instance id "${instanceId}" must be one token of A-Z a-z 0-9 _ -`);
  return subject;
}

export function isTtsWorkerRequestSubject(subject: string): subject is TtsWorkerRequestSubject {
  return /^agent\.tts\.worker\.[A-Za-z0-9_-]+\.request$/.test(subject);
}

export type SubjectKey = keyof typeof Subjects;
/** A concrete subject with a fixed schema (not a wildcard, not a dead letter). */
export type KnownSubject = (typeof Subjects)[SubjectKey];
export const KNOWN_SUBJECTS: readonly KnownSubject[] = Object.values(Subjects);
/** Subjects a payload may be published to: the known ones plus worker-targeted TTS requests. */
export type RoutableSubject = KnownSubject | TtsWorkerRequestSubject;

/** Wildcard patterns operators use (seed 002 "Wildcard Subscriptions" plus dead letters). */
export const Wildcards = {
  allAgent: 'agent.>',
  voice: 'agent.voice.>',
  brain: 'agent.brain.>',
  tts: 'agent.tts.>',
  trackEvents: 'agent.*.track.>',
  ttsWorkerRequests: 'agent.tts.worker.*.request',
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
