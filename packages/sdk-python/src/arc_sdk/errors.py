"""Errors of the ARC SDK. Every error a caller can act on has its own class; all derive from ArcError."""

from __future__ import annotations


class ArcError(Exception):
    """Base class of every error the SDK raises."""


class InvalidSubjectError(ArcError):
    """A subject ARC does not allow (empty tokens, wildcards where none may be, other characters)."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f'invalid subject "{subject}": {reason}')
        self.subject = subject
        self.reason = reason


class InvalidTenantError(ArcError):
    """A tenant id that is not one subject token of 1 to 32 of ``a-z 0-9 _ -``, starting with a letter or digit."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f'invalid tenant id "{tenant}": 1 to 32 of a-z 0-9 _ -, starting with a letter or digit')
        self.tenant = tenant


class InvalidPayloadError(ArcError):
    """A payload (or reply) that does not match its subject's schema; nothing was sent.

    ``field`` is the dotted path of the field at fault (``constraints.max_tokens``; ``""`` for the
    payload as a whole), ``reason`` what is wrong, starting with that path
    (``user_input: 'user_input' is a required property``).
    """

    def __init__(self, subject: str, field: str, reason: str) -> None:
        super().__init__(f"invalid payload for {subject}: {reason}")
        self.subject = subject
        self.field = field
        self.reason = reason


class PayloadTooLargeError(ArcError):
    """The encoded payload is over the server's max_payload; nothing was sent."""

    def __init__(self, subject: str, size_bytes: int, max_bytes: int) -> None:
        super().__init__(
            f"payload for {subject} is {size_bytes} bytes, over the server's max_payload of {max_bytes} bytes; nothing was sent"
        )
        self.subject = subject
        self.size_bytes = size_bytes
        self.max_bytes = max_bytes


class ConnectError(ArcError):
    """Could not connect to NATS."""

    def __init__(self, servers: str, cause: BaseException) -> None:
        super().__init__(f"cannot connect to NATS at {servers}: {cause or type(cause).__name__}")
        self.servers = servers


class ClosedError(ArcError):
    """The client is closed."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"cannot publish to {subject}: the client is closed")
        self.subject = subject


class NoRespondersError(ArcError):
    """A request nobody subscribes to."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"no subscriber for request on {subject}")
        self.subject = subject


class RequestTimeoutError(ArcError):
    """No reply within the timeout."""

    def __init__(self, subject: str, timeout_ms: float) -> None:
        super().__init__(f"no reply to request on {subject} within {timeout_ms:g} ms")
        self.subject = subject
        self.timeout_ms = timeout_ms
