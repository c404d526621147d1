"""ARC subjects: constants, worker and dead-letter subjects, validation (packages/contracts/src/subjects.ts).

Names follow ``<domain>.<service>.<entity>.<action>``, at most 8 tokens of ``[A-Za-z0-9_-]``.
"""

from __future__ import annotations

import re
from typing import Final

from ._contract import (
    DEAD_LETTER_PREFIX,
    DEAD_LETTER_REASONS,
    KNOWN_SUBJECTS,
    DeadLetterReason,
    KnownSubject,
    Subjects,
)
from .errors import InvalidSubjectError, InvalidTenantError

__all__ = [
    "AUDIT_COPY_PREFIX",
    "is_audited_by_copy",
    "DEAD_LETTER_PREFIX",
    "DEAD_LETTER_REASONS",
    "KNOWN_SUBJECTS",
    "MAX_SUBJECT_TOKENS",
    "OWNER_EVENT_SUBJECTS",
    "REQUEST_SUBJECTS",
    "DeadLetterReason",
    "KnownSubject",
    "Subjects",
    "Wildcards",
    "assert_valid_subject",
    "dead_letter_subject",
    "is_dead_letter_subject",
    "is_known_subject",
    "is_valid_subject",
    "event_subject_of",
    "owner_subject",
    "request_subject_of",
    "subject_matches",
    "worker_subject",
    "TENANT_ID_PATTERN",
    "TENANT_SUBJECT_PREFIX",
    "assert_valid_tenant",
    "is_valid_tenant",
    "subject_in_tenant",
    "tenant_inbox_prefix",
    "tenant_permissions",
    "tenant_subject",
]

MAX_SUBJECT_TOKENS: Final = 8

#: Subjects that may be sent as NATS requests (the receiver replies), and that have worker subjects.
REQUEST_SUBJECTS: Final[tuple[str, ...]] = (Subjects.TTS_REQUEST, Subjects.VOICE_TRACK_PUBLISHED)

#: Events that answer a request: when the request names its ``owner_instance`` (the voice worker that
#: owns the session), each is published to its seed subject and to its owner subject (see owner_subject).
OWNER_EVENT_SUBJECTS: Final[tuple[str, ...]] = (
    Subjects.BRAIN_PARTIAL,
    Subjects.BRAIN_RESPONSE,
    Subjects.BRAIN_ERROR,
    Subjects.TTS_COMPLETED,
    Subjects.TTS_ERROR,
)


class Wildcards:
    """Subscription patterns operators use."""

    ALL_AGENT: Final = "agent.>"
    VOICE: Final = "agent.voice.>"
    BRAIN: Final = "agent.brain.>"
    TTS: Final = "agent.tts.>"
    TRACK_EVENTS: Final = "agent.*.track.>"
    WORKER_SUBJECTS: Final = "agent.*.worker.*.*"
    OWNER_SUBJECTS: Final = "agent.*.to.*.*"
    AGENT_ERRORS: Final = "*.*.error"
    SYSTEM_ERRORS: Final = "system.*.error"
    DEAD_LETTERS: Final = "dlq.>"
    EVERYTHING: Final = ">"


# Letters, digits, '_' and '-' only: NATS allows more, but anything else is a mistake in ARC subjects.
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def assert_valid_subject(subject: str, *, wildcards: bool = False) -> None:
    """Raises InvalidSubjectError unless ``subject`` is a well-formed ARC subject.

    ``wildcards`` allows ``*`` tokens and a final ``>`` (subscriptions).
    """
    if not isinstance(subject, str) or not subject:
        raise InvalidSubjectError(str(subject), "empty")
    tokens = subject.split(".")
    if len(tokens) > MAX_SUBJECT_TOKENS:
        raise InvalidSubjectError(subject, f"{len(tokens)} tokens, at most {MAX_SUBJECT_TOKENS} allowed")
    for index, token in enumerate(tokens):
        if not token:
            raise InvalidSubjectError(subject, f"token {index + 1} is empty")
        if token in ("*", ">"):
            if not wildcards:
                raise InvalidSubjectError(subject, f'wildcard "{token}" not allowed here')
            if token == ">" and index != len(tokens) - 1:
                raise InvalidSubjectError(subject, '">" must be the last token')
            continue
        if not _TOKEN.fullmatch(token):
            raise InvalidSubjectError(subject, f'token {index + 1} "{token}" has characters other than A-Z a-z 0-9 _ -')


def is_valid_subject(subject: str, *, wildcards: bool = False) -> bool:
    try:
        assert_valid_subject(subject, wildcards=wildcards)
    except InvalidSubjectError:
        return False
    return True


def is_known_subject(subject: str) -> bool:
    return subject in KNOWN_SUBJECTS


def worker_subject(subject: str, instance_id: str) -> str:
    """The subject of one worker: ``agent.tts.request`` → ``agent.tts.worker.<instance_id>.request``."""
    if subject not in REQUEST_SUBJECTS:
        raise InvalidSubjectError(subject, f"not a request subject (one of {', '.join(REQUEST_SUBJECTS)})")
    return _targeted(subject, "worker", instance_id)


def owner_subject(subject: str, instance_id: str) -> str:
    """The owning voice worker's copy of an answering event: ``agent.brain.response`` →
    ``agent.brain.to.<instance_id>.response``. It carries the event subject's schema."""
    if subject not in OWNER_EVENT_SUBJECTS:
        raise InvalidSubjectError(subject, f"has no owner subject (one of {', '.join(OWNER_EVENT_SUBJECTS)})")
    return _targeted(subject, "to", instance_id)


def event_subject_of(subject: str) -> str | None:
    """The event subject an owner subject copies (``agent.brain.to.x.response`` → ``agent.brain.response``)."""
    return _untargeted(subject, "to", OWNER_EVENT_SUBJECTS)


def _targeted(subject: str, infix: str, instance_id: str) -> str:
    """``a.b.action`` → ``a.b.<infix>.<instance_id>.action`` (worker and owner subjects)."""
    head, _, action = subject.rpartition(".")
    targeted = f"{head}.{infix}.{instance_id}.{action}"
    if not _TOKEN.fullmatch(instance_id):
        raise InvalidSubjectError(targeted, f'instance id "{instance_id}" must be one token of A-Z a-z 0-9 _ -')
    return targeted


def _untargeted(subject: str, infix: str, bases: tuple[str, ...]) -> str | None:
    """The subject among ``bases`` that ``subject`` targets through ``infix``, if any."""
    tokens = subject.split(".")
    if len(tokens) < 4 or tokens[-3] != infix or not _TOKEN.fullmatch(tokens[-2]):
        return None
    base = ".".join([*tokens[:-3], tokens[-1]])
    return base if base in bases else None


AUDIT_COPY_PREFIX: Final = "audit"


def is_audited_by_copy(subject: str) -> bool:
    """Request and worker subjects reach the ARC_AUDIT stream through a copy on ``audit.<subject>``:
    a stream listening on them would stop NATS answering "no responders" (as in the TypeScript bus)."""
    return subject in REQUEST_SUBJECTS or request_subject_of(subject) is not None


def request_subject_of(subject: str) -> str | None:
    """The request subject a worker subject targets (``agent.tts.worker.x.request`` → ``agent.tts.request``)."""
    return _untargeted(subject, "worker", REQUEST_SUBJECTS)


def dead_letter_subject(original_subject: str, reason: str) -> str:
    """``dlq.<original subject>.<reason>``; ``dlq.unroutable.<reason>`` when that is not a valid subject."""
    candidate = f"{DEAD_LETTER_PREFIX}.{original_subject}.{reason}"
    return candidate if is_valid_subject(candidate) else f"{DEAD_LETTER_PREFIX}.unroutable.{reason}"


def is_dead_letter_subject(subject: str) -> bool:
    return subject.startswith(f"{DEAD_LETTER_PREFIX}.")


def subject_matches(pattern: str, subject: str) -> bool:
    """Does a concrete subject match a subscription pattern with ``*`` and ``>``?"""
    p = pattern.split(".")
    s = subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


# ----------------------------------------------------------------------------- tenants
# (packages/contracts/src/tenants.ts) One NATS serves several customers, each in its own subject
# namespace: a client of tenant ``acme`` sends and receives every ARC subject under ``t.acme.``
# (``agent.brain.request`` is ``t.acme.agent.brain.request`` on the wire, ``agent.>`` is
# ``t.acme.agent.>``) and its request replies come back on its own inbox prefix ``_INBOX_acme``.
# The tenant's NATS user may use exactly those two namespaces (tenant_permissions). Inside the
# namespace, subjects, schemas and the 8-token rule are those above: the client adds the prefix on
# the wire and removes it from what it receives.

TENANT_SUBJECT_PREFIX: Final = "t"
#: Tenant ids: one subject token, lower-case, as in a DNS label (it also names NATS users).
TENANT_ID_PATTERN: Final = "^[a-z0-9][a-z0-9_-]{0,31}$"
_TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def assert_valid_tenant(tenant: str) -> None:
    """Raises InvalidTenantError unless ``tenant`` matches TENANT_ID_PATTERN."""
    if not isinstance(tenant, str) or not _TENANT_ID.fullmatch(tenant):
        raise InvalidTenantError(str(tenant))


def is_valid_tenant(tenant: str) -> bool:
    return isinstance(tenant, str) and _TENANT_ID.fullmatch(tenant) is not None


def tenant_subject(tenant: str, subject: str) -> str:
    """``agent.brain.request`` → ``t.<tenant>.agent.brain.request`` (patterns too: ``agent.>`` →
    ``t.<tenant>.agent.>``). Raises InvalidTenantError."""
    assert_valid_tenant(tenant)
    return f"{TENANT_SUBJECT_PREFIX}.{tenant}.{subject}"


def subject_in_tenant(tenant: str, wire_subject: str) -> str:
    """``t.<tenant>.agent.brain.request`` → ``agent.brain.request``. Raises InvalidSubjectError for a
    subject outside the tenant's namespace, InvalidTenantError for an invalid tenant id."""
    assert_valid_tenant(tenant)
    prefix = f"{TENANT_SUBJECT_PREFIX}.{tenant}."
    if not wire_subject.startswith(prefix):
        raise InvalidSubjectError(wire_subject, f'not in tenant "{tenant}" (subjects start with "{prefix}")')
    return wire_subject[len(prefix) :]


def tenant_inbox_prefix(tenant: str) -> str:
    """The inbox prefix of a tenant's connections: request replies arrive on ``_INBOX_<tenant>.…``."""
    assert_valid_tenant(tenant)
    return f"_INBOX_{tenant}"


def tenant_permissions(tenant: str) -> dict[str, list[str]]:
    """What a tenant's NATS user may publish and subscribe to: its namespace and its inboxes, nothing else."""
    allowed = [tenant_subject(tenant, ">"), f"{tenant_inbox_prefix(tenant)}.>"]
    return {"publish": list(allowed), "subscribe": list(allowed)}
