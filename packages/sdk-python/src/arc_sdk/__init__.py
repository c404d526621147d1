"""Python SDK of ARC: typed, validated NATS messages with the TypeScript bus's rules.

    from arc_sdk import Client, Subjects

    client = await Client.connect("nats://127.0.0.1:4222", service="my-service")
    await client.publish(Subjects.BRAIN_REQUEST, {"request_id": "req-1", "session_id": "s-1", "user_input": "hi"})
    await client.subscribe(Subjects.BRAIN_RESPONSE, lambda payload, meta: print(payload["agent_response"]))
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import payloads
from ._contract import (
    DEAD_LETTER_MAX_BYTES,
    DEAD_LETTER_PREFIX,
    DEAD_LETTER_REASONS,
    KNOWN_SUBJECTS,
    MAX_CLOCK_SKEW_MS,
    MAX_PAYLOAD_BYTES,
    TTL_MS,
    UNTRACED_SUBJECTS,
    DeadLetterReason,
    KnownSubject,
    Subjects,
)
from .client import BusStats, Client, Handler, MessageMeta, Published, Reply, Subscription
from .errors import (
    ArcError,
    ClosedError,
    ConnectError,
    InvalidPayloadError,
    InvalidSubjectError,
    InvalidTenantError,
    NoRespondersError,
    PayloadTooLargeError,
    RequestTimeoutError,
)
from .ids import iso_timestamp, new_trace_id, parse_timestamp_ms
from .subjects import (
    MAX_SUBJECT_TOKENS,
    OWNER_EVENT_SUBJECTS,
    REQUEST_SUBJECTS,
    TENANT_ID_PATTERN,
    TENANT_SUBJECT_PREFIX,
    Wildcards,
    assert_valid_subject,
    assert_valid_tenant,
    dead_letter_subject,
    is_dead_letter_subject,
    is_known_subject,
    is_valid_subject,
    is_valid_tenant,
    event_subject_of,
    owner_subject,
    request_subject_of,
    subject_in_tenant,
    subject_matches,
    tenant_inbox_prefix,
    tenant_permissions,
    tenant_subject,
    worker_subject,
)
from .validation import has_schema, payload_error, validate_dead_letter, validate_payload, validate_reply

try:
    __version__ = version("arc-sdk")
except PackageNotFoundError:  # pragma: no cover - run from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "DEAD_LETTER_MAX_BYTES",
    "DEAD_LETTER_PREFIX",
    "DEAD_LETTER_REASONS",
    "KNOWN_SUBJECTS",
    "MAX_CLOCK_SKEW_MS",
    "MAX_PAYLOAD_BYTES",
    "MAX_SUBJECT_TOKENS",
    "OWNER_EVENT_SUBJECTS",
    "REQUEST_SUBJECTS",
    "TENANT_ID_PATTERN",
    "TENANT_SUBJECT_PREFIX",
    "TTL_MS",
    "UNTRACED_SUBJECTS",
    "ArcError",
    "BusStats",
    "Client",
    "ClosedError",
    "ConnectError",
    "DeadLetterReason",
    "Handler",
    "InvalidPayloadError",
    "InvalidSubjectError",
    "InvalidTenantError",
    "KnownSubject",
    "MessageMeta",
    "NoRespondersError",
    "PayloadTooLargeError",
    "Published",
    "Reply",
    "RequestTimeoutError",
    "Subjects",
    "Subscription",
    "Wildcards",
    "assert_valid_subject",
    "assert_valid_tenant",
    "dead_letter_subject",
    "event_subject_of",
    "has_schema",
    "is_dead_letter_subject",
    "is_known_subject",
    "is_valid_subject",
    "is_valid_tenant",
    "iso_timestamp",
    "new_trace_id",
    "owner_subject",
    "parse_timestamp_ms",
    "payload_error",
    "payloads",
    "request_subject_of",
    "subject_in_tenant",
    "subject_matches",
    "tenant_inbox_prefix",
    "tenant_permissions",
    "tenant_subject",
    "validate_dead_letter",
    "validate_payload",
    "validate_reply",
    "worker_subject",
]
