"""The ARC bus client on nats-py: validated publishes, and subscriptions that hand handlers only
valid, fresh payloads. Everything else is dead-lettered and counted, never dropped silently.

Receive rules (the TypeScript bus's, packages/bus/src/bus.ts ``deliver``), in order:

1. no schema for the subject → ``unknown_subject``
2. not JSON → ``invalid_payload`` (``not JSON: …``)
3. schema failure → ``invalid_payload`` (the reason names the field)
4. timestamp more than ``max_clock_skew_ms`` ahead → ``invalid_payload`` (``timestamp: … is in the future``)
5. older than ``ttl_ms`` (not on ``dlq.*``) → ``stale``
6. the handler raises → ``handler_error``, and a ``system.service.error`` is published

A rejected message is republished to ``dlq.<subject>.<reason>`` (see dlq.schema.json), except
messages on ``dlq.*``, which are only counted.

Tenants (``tenant="acme"``, packages/contracts/src/tenants.ts): every subject this client sends or
subscribes to goes on the wire under ``t.acme.`` (publishes, owner copies, ``audit.*`` copies,
requests, subscriptions, dead letters, ``system.service.error``), and request replies come back on
the inbox prefix ``_INBOX_acme``. Everything else (validation, schemas, counters, logs, dead letters'
``original_subject``, ``MessageMeta.subject``) sees the subject without the prefix.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import inspect
import json
import logging
import math
import os
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple, TypedDict

import nats
import nats.errors
from nats.aio.client import Client as NatsConnection
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription

from ._contract import DEAD_LETTER_MAX_BYTES, MAX_CLOCK_SKEW_MS, MAX_PAYLOAD_BYTES, TTL_MS, UNTRACED_SUBJECTS
from .errors import (
    ClosedError,
    ConnectError,
    InvalidPayloadError,
    InvalidSubjectError,
    NoRespondersError,
    PayloadTooLargeError,
    RequestTimeoutError,
)
from .ids import iso_timestamp, new_trace_id, now_ms, parse_timestamp_ms
from .subjects import (
    AUDIT_COPY_PREFIX,
    REQUEST_SUBJECTS,
    TENANT_SUBJECT_PREFIX,
    assert_valid_subject,
    assert_valid_tenant,
    dead_letter_subject,
    is_audited_by_copy,
    is_dead_letter_subject,
    owner_subject,
    subject_in_tenant,
    tenant_inbox_prefix,
)
from .validation import has_schema, payload_error, schema_name_for, validate_payload, validate_reply

__all__ = ["BusStats", "Client", "Handler", "MessageMeta", "Published", "Reply", "Subscription"]

Payload = dict[str, Any]
# The schemas' trace id: W3C (32 hex) or a UUID. A dead letter copies only such a trace_id.
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_REASON = 4096
_COUNTERS = ("received", "handled", "invalid", "stale", "dead_lettered", "handler_errors", "published", "dropped")
_MAX_SUBJECT_COUNTERS = 256


class Published(NamedTuple):
    """What ``publish`` sent; ``sent`` is False when the client was disconnected (at-most-once: dropped)."""

    payload: Payload
    sent: bool


class Reply(NamedTuple):
    """A request as sent, and its validated reply."""

    payload: Payload
    reply: Payload


class BusStats(TypedDict):
    """Cumulative counters, and hop latency (payload timestamp → handler start) over the last 1024
    messages; shaped as a heartbeat's ``metrics.bus``."""

    hop_p50_ms: float
    hop_p99_ms: float
    received: int
    handled: int
    invalid: int
    stale: int
    dead_lettered: int
    handler_errors: int
    published: int
    dropped: int


class MessageMeta:
    """What a handler learns besides the payload."""

    __slots__ = ("subject", "hop_latency_ms", "size_bytes", "reply_subject", "_respond")

    def __init__(
        self,
        subject: str,
        hop_latency_ms: float,
        size_bytes: int,
        reply_subject: str | None,
        respond: Callable[[Mapping[str, Any]], Awaitable[Payload]] | None,
    ) -> None:
        self.subject = subject
        #: payload timestamp → handler start, ms
        self.hop_latency_ms = hop_latency_ms
        self.size_bytes = size_bytes
        #: set when the message was sent as a NATS request
        self.reply_subject = reply_subject
        self._respond = respond

    async def respond(self, reply: Mapping[str, Any]) -> Payload:
        """Answers a request with a reply validated against the subject's reply schema (timestamp
        and the request's trace_id filled). Raises InvalidPayloadError, or RuntimeError when the
        message was not a request."""
        if self._respond is None:
            raise RuntimeError(f"the message on {self.subject} was not sent as a request: nothing to respond to")
        return await self._respond(reply)


#: A handler gets the validated payload (a dict; annotate it with its TypedDict from
#: arc_sdk.payloads, e.g. BrainRequestPayload) and may be a plain or a coroutine function.
Handler = Callable[[Any, MessageMeta], Awaitable[None] | None]


class Subscription:
    def __init__(self, client: Client, subject: str, sub: NatsSubscription) -> None:
        self.subject = subject
        self._client = client
        self._sub = sub

    async def unsubscribe(self) -> None:
        """Stops receiving; messages already received are still handled."""
        self._client._subscriptions.discard(self)
        try:
            await self._sub.drain()  # type: ignore[no-untyped-call]
        except nats.errors.Error:
            pass  # the connection is closed or draining: nothing to stop


class Client:
    """Typed NATS client of ARC. Create with ``await Client.connect(...)``; use as an async context
    manager or call ``close()``."""

    def __init__(
        self,
        nc: NatsConnection,
        *,
        service: str,
        instance_id: str | None = None,
        ttl_ms: float | None = None,
        max_clock_skew_ms: float | None = None,
        dead_letter_max_bytes: int | None = None,
        logger: logging.Logger | None = None,
        tenant: str | None = None,
    ) -> None:
        if tenant is not None:
            assert_valid_tenant(tenant)
        self._nc = nc
        self._tenant = tenant
        #: what every subject gets in front of it on the wire ("" without a tenant)
        self._wire_prefix = "" if tenant is None else f"{TENANT_SUBJECT_PREFIX}.{tenant}."
        self.service = service
        self.instance_id = instance_id or f"{service}-{os.urandom(3).hex()}"
        self.ttl_ms = TTL_MS if ttl_ms is None else ttl_ms
        self.max_clock_skew_ms = MAX_CLOCK_SKEW_MS if max_clock_skew_ms is None else max_clock_skew_ms
        self.dead_letter_max_bytes = DEAD_LETTER_MAX_BYTES if dead_letter_max_bytes is None else dead_letter_max_bytes
        self._log = logger or logging.getLogger("arc_sdk")
        self._totals: Counter[str] = Counter()
        self._per_subject: dict[str, Counter[str]] = {}
        self._hops: deque[float] = deque(maxlen=1024)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._subscriptions: set[Subscription] = set()
        self._closing = False
        self._throttle: dict[str, list[float]] = {}

    @classmethod
    async def connect(
        cls,
        servers: str | list[str] = "nats://127.0.0.1:4222",
        *,
        service: str,
        instance_id: str | None = None,
        ttl_ms: float | None = None,
        max_clock_skew_ms: float | None = None,
        dead_letter_max_bytes: int | None = None,
        connect_timeout: float = 5.0,
        logger: logging.Logger | None = None,
        tenant: str | None = None,
        nkeys_seed: str | os.PathLike[str] | None = None,
    ) -> Client:
        """Connects (``servers``: a URL, comma-separated URLs or a list), trying for up to
        ``connect_timeout`` seconds; raises ConnectError then. Once connected, reconnects forever
        (publishes meanwhile are not sent: counted as dropped).

        ``tenant``: the tenant this client belongs to (ARC_TENANT); every subject goes on the wire
        under ``t.<tenant>.`` and request replies come to the inbox prefix ``_INBOX_<tenant>``.
        Raises InvalidTenantError for an id that does not match TENANT_ID_PATTERN.
        ``nkeys_seed``: path to the NATS user's nkey seed file (a tenant's ``<id>.nk`` from
        ``arc tenant add``, or the operator's); needs the ``nkeys`` package."""
        if tenant is not None:
            assert_valid_tenant(tenant)
        credentials: dict[str, Any] = {}
        if nkeys_seed is not None:
            if importlib.util.find_spec("nkeys") is None:  # nats-py imports it only while connecting
                raise ConnectError(str(servers), ImportError("nkeys_seed needs the nkeys package (pip install nkeys)"))
            seed_file = os.fspath(nkeys_seed)
            if not os.path.isfile(seed_file):
                raise ConnectError(str(servers), FileNotFoundError(f"no nkey seed file {seed_file}"))
            credentials["nkeys_seed"] = seed_file
        if tenant is not None:
            credentials["inbox_prefix"] = tenant_inbox_prefix(tenant)
        urls = [s.strip() for s in servers.split(",")] if isinstance(servers, str) else list(servers)
        log = logger or logging.getLogger("arc_sdk")
        client: Client | None = None
        last_error: list[Exception] = []

        async def on_error(error: Exception) -> None:
            if client is None:  # still trying the first connection
                last_error[:] = [error]
                log.debug("connecting to NATS: %s", error)
            else:
                log.error("NATS error: %s", error)

        async def on_disconnect() -> None:
            if client is not None and not client._closing:
                log.warning("disconnected from NATS; reconnecting")

        async def on_reconnect() -> None:
            if client is not None:
                log.info("reconnected to NATS (publishes dropped so far: %d)", client._totals["dropped"])

        nc = NatsConnection()
        connecting = nc.connect(
            servers=urls,
            name=instance_id or service,
            allow_reconnect=True,
            max_reconnect_attempts=-1,  # also: keep trying the first connection, until connect_timeout
            reconnect_time_wait=0.25,  # type: ignore[arg-type]  # typed int, takes seconds as float
            connect_timeout=max(0.1, min(2.0, connect_timeout)),  # type: ignore[arg-type]  # per attempt
            ping_interval=10,
            max_outstanding_pings=3,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
            **credentials,
        )
        try:
            await asyncio.wait_for(connecting, connect_timeout)
        except Exception as error:  # nats-py raises several unrelated types here
            try:
                await nc.close()
            except Exception:  # it failed before it was set up (e.g. an unreadable nkey seed): nothing to close
                pass
            if isinstance(error, asyncio.TimeoutError):
                cause = f" (last error: {last_error[0]})" if last_error else ""
                error = asyncio.TimeoutError(f"no answer within {connect_timeout:g} s{cause}")
            raise ConnectError(",".join(urls), error) from error
        client = cls(
            nc,
            service=service,
            instance_id=instance_id,
            ttl_ms=ttl_ms,
            max_clock_skew_ms=max_clock_skew_ms,
            dead_letter_max_bytes=dead_letter_max_bytes,
            logger=logger,
            tenant=tenant,
        )
        return client

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------- properties

    @property
    def is_connected(self) -> bool:
        return bool(self._nc.is_connected)

    @property
    def max_payload_bytes(self) -> int:
        """The server's max_payload (1 MB by default)."""
        return int(self._nc.max_payload or MAX_PAYLOAD_BYTES)

    @property
    def tenant(self) -> str | None:
        """The tenant whose namespace (``t.<tenant>.``) this client uses on the wire; None without one."""
        return self._tenant

    @property
    def nats(self) -> NatsConnection:
        """The nats-py connection underneath (for JetStream and the like); publish through the client."""
        return self._nc

    # ------------------------------------------------------------------------- sending

    async def publish(self, subject: str, payload: Mapping[str, Any], *, owner: str | None = None) -> Published:
        """Validates and publishes; fills ``timestamp`` and ``trace_id`` when absent. Raises
        InvalidPayloadError, PayloadTooLargeError, InvalidSubjectError or ClosedError. The payload
        is copied, never changed. ``owner``: the request's ``owner_instance``; an answering event is
        also sent to that voice worker's owner subject (``agent.brain.to.<owner>.response``)."""
        assert_valid_subject(subject)
        targeted = owner_subject(subject, owner) if owner else None
        checked = validate_payload(subject, self._complete(subject, payload))
        data = _encode(subject, checked)
        sent = await self._send(subject, data)
        if sent and targeted:
            await self._nc.publish(self._wire(targeted), data)
            self._count(targeted, "published")
        return Published(checked, sent)

    async def publish_raw(self, subject: str, data: bytes | str) -> bool:
        """Publishes bytes as they are (tests, fuzzing); only the subject is checked."""
        assert_valid_subject(subject)
        return await self._send(subject, data.encode() if isinstance(data, str) else data)

    async def request(self, subject: str, payload: Mapping[str, Any], *, timeout: float = 2.0) -> Reply:
        """Sends a validated payload as a NATS request on a request subject (or a worker subject) and
        returns it with the validated reply. Raises NoRespondersError, RequestTimeoutError,
        InvalidPayloadError (the request, or the reply), PayloadTooLargeError."""
        assert_valid_subject(subject)
        if schema_name_for(subject) not in REQUEST_SUBJECTS:
            raise InvalidSubjectError(subject, f"does not take requests (request subjects: {', '.join(REQUEST_SUBJECTS)} and their worker subjects)")
        checked = validate_payload(subject, self._complete(subject, payload))
        data = _encode(subject, checked)
        self._check_sendable(subject, data)
        try:
            answer = asyncio.ensure_future(self._nc.request(self._wire(subject), data, timeout=timeout))
            await self._copy_for_audit(subject, data)
            msg = await answer
        except nats.errors.NoRespondersError as error:
            raise NoRespondersError(subject) from error
        except nats.errors.TimeoutError as error:
            raise RequestTimeoutError(subject, timeout * 1000) from error
        self._count(subject, "published")
        try:
            decoded = _decode(msg.data)
        except ValueError as error:
            raise InvalidPayloadError(f"reply to {subject}", "", f"not JSON: {error}") from error
        return Reply(checked, validate_reply(subject, decoded))

    async def flush(self, timeout: float = 2.0) -> None:
        """Round trip to the server: everything sent before (publishes, subscriptions) has reached it."""
        await flush_nats(self._nc, timeout)

    # ------------------------------------------------------------------------- receiving

    async def subscribe(
        self, subject: str, handler: Handler, *, queue: str | None = None, dead_letter: bool = True
    ) -> Subscription:
        """Hands valid, fresh payloads on ``subject`` (wildcards allowed) to ``handler``; with a
        ``queue`` group each message goes to one member. ``dead_letter=False`` (passive watchers)
        still rejects and counts bad messages, without republishing them."""
        assert_valid_subject(subject, wildcards=True)
        if queue is not None:
            assert_valid_subject(queue)

        async def on_message(msg: Msg) -> None:
            try:
                await self._deliver(msg, handler, dead_letter)
            except Exception:  # a bug here must not end the subscription
                self._log.exception("delivering a message on %s failed", msg.subject)

        sub = await self._nc.subscribe(self._wire(subject), queue=queue or "", cb=on_message)
        subscription = Subscription(self, subject, sub)
        self._subscriptions.add(subscription)
        return subscription

    # ------------------------------------------------------------------------- stats, close

    def stats(self) -> BusStats:
        hops = sorted(self._hops)

        def pct(p: float) -> float:
            return hops[min(len(hops) - 1, math.ceil(p / 100 * len(hops)) - 1)] if hops else 0.0

        t = self._totals
        return {
            "hop_p50_ms": max(0.0, pct(50)),
            "hop_p99_ms": max(0.0, pct(99)),
            "received": t["received"],
            "handled": t["handled"],
            "invalid": t["invalid"],
            "stale": t["stale"],
            "dead_lettered": t["dead_lettered"],
            "handler_errors": t["handler_errors"],
            "published": t["published"],
            "dropped": t["dropped"],
        }

    def subject_stats(self) -> dict[str, dict[str, int]]:
        """Counters per concrete subject (at most 256 subjects; the rest under ``(other)``)."""
        return {subject: {name: counts[name] for name in _COUNTERS} for subject, counts in self._per_subject.items()}

    async def close(self, deadline: float = 5.0) -> None:
        """Graceful close: stop receiving, let received messages and running handlers finish (up to
        ``deadline`` seconds), flush publishes, close the connection."""
        if self._closing:
            return
        self._closing = True

        async def drain() -> None:
            await asyncio.gather(*(s.unsubscribe() for s in list(self._subscriptions)), return_exceptions=True)
            while self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            if self._nc.is_connected:
                await flush_nats(self._nc)

        try:
            await asyncio.wait_for(drain(), deadline)
        except (asyncio.TimeoutError, nats.errors.Error) as error:
            self._log.warning("close: not drained within %.1f s: %s", deadline, error)
        for task in self._in_flight:
            task.cancel()
        if not self._nc.is_closed:
            await self._nc.close()

    # ------------------------------------------------------------------------- internals

    def _wire(self, subject: str) -> str:
        """The subject on the wire: in the tenant's namespace, if there is one."""
        return self._wire_prefix + subject

    def _local(self, wire_subject: str) -> str:
        """A received subject without the tenant's prefix (subscriptions are all in the namespace)."""
        return wire_subject if self._tenant is None else subject_in_tenant(self._tenant, wire_subject)

    def _complete(self, subject: str, payload: Mapping[str, Any]) -> Payload:
        if not isinstance(payload, Mapping):
            raise InvalidPayloadError(subject, "", f"(root): must be object (got {type(payload).__name__})")
        traced = schema_name_for(subject) not in UNTRACED_SUBJECTS
        filled: Payload = {"timestamp": None, "trace_id": None, **payload} if traced else {"timestamp": None, **payload}
        if filled["timestamp"] is None:
            filled["timestamp"] = iso_timestamp()
        if traced and filled["trace_id"] is None:
            filled["trace_id"] = new_trace_id()
        return filled

    def _check_sendable(self, subject: str, data: bytes) -> None:
        if self._nc.is_closed:
            raise ClosedError(subject)
        if len(data) > self.max_payload_bytes:
            raise PayloadTooLargeError(subject, len(data), self.max_payload_bytes)

    async def _send(self, subject: str, data: bytes) -> bool:
        self._check_sendable(subject, data)
        if not self._nc.is_connected:
            self._count(subject, "dropped")
            self._throttled(logging.WARNING, f"dropped:{subject}", "not connected to NATS: message on %s not sent (at-most-once)", subject)
            return False
        await self._nc.publish(self._wire(subject), data)
        await self._copy_for_audit(subject, data)
        self._count(subject, "published")
        return True

    async def _copy_for_audit(self, subject: str, data: bytes) -> None:
        if is_audited_by_copy(subject):
            await self._nc.publish(self._wire(f"{AUDIT_COPY_PREFIX}.{subject}"), data)

    async def _deliver(self, msg: Msg, handler: Handler, dead_letter: bool) -> None:
        # Computed once: everything downstream sees the subject without the tenant's prefix.
        subject = self._local(msg.subject)
        started = now_ms()
        self._count(subject, "received")
        if not has_schema(subject):
            await self._reject(subject, msg, "unknown_subject", f'no schema for subject "{subject}"', dead_letter)
            return
        try:
            decoded = _decode(msg.data)
        except ValueError as error:
            await self._reject(subject, msg, "invalid_payload", f"not JSON: {error}", dead_letter)
            return
        invalid = payload_error(subject, decoded)
        if invalid is not None:
            await self._reject(subject, msg, "invalid_payload", invalid.reason, dead_letter, decoded)
            return
        payload: Payload = decoded
        timestamp = payload.get("timestamp")
        age = started - parse_timestamp_ms(timestamp) if isinstance(timestamp, str) else 0.0
        if age < -self.max_clock_skew_ms:
            await self._reject(subject, msg, "invalid_payload", f"timestamp: {timestamp} is in the future", dead_letter, payload)
            return
        if age > self.ttl_ms and not is_dead_letter_subject(subject):
            reason = f"timestamp: {timestamp} is {math.floor(age + 0.5)} ms old, over the {_number(self.ttl_ms)} ms TTL"
            await self._reject(subject, msg, "stale", reason, dead_letter, payload)
            return
        self._hops.append(age)
        self._count(subject, "handled")
        respond = (lambda reply: self._respond(subject, msg, payload, reply)) if msg.reply else None
        meta = MessageMeta(subject, age, len(msg.data), msg.reply or None, respond)
        try:
            running = handler(payload, meta)
        except Exception as error:
            await self._handler_failed(subject, msg, payload, error, dead_letter)
            return
        if inspect.isawaitable(running):
            task = asyncio.ensure_future(self._await_handler(running, subject, msg, payload, dead_letter))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _await_handler(self, running: Awaitable[None], subject: str, msg: Msg, payload: Payload, dead_letter: bool) -> None:
        try:
            await running
        except Exception as error:
            await self._handler_failed(subject, msg, payload, error, dead_letter)

    async def _respond(self, subject: str, msg: Msg, request: Payload, reply: Mapping[str, Any]) -> Payload:
        # The reply goes to msg.reply as it is: the requester's inbox (``_INBOX_<tenant>.…`` for a tenant).
        trace = {"trace_id": request["trace_id"]} if request.get("trace_id") else {}
        checked: Payload = validate_reply(subject, {"timestamp": iso_timestamp(), **trace, **reply})
        await self._nc.publish(msg.reply, _encode(f"reply to {subject}", checked))
        return checked

    async def _handler_failed(self, subject: str, msg: Msg, payload: Payload, error: Exception, dead_letter: bool) -> None:
        message = str(error) or type(error).__name__
        self._count(subject, "handler_errors")
        self._log.error("handler for %s failed (trace_id %s)", subject, payload.get("trace_id"), exc_info=error)
        if dead_letter:
            await self._dead_letter(subject, msg, "handler_error", message, payload)
        service_error: Payload = {
            "service": self.service,
            "instance_id": self.instance_id,
            "error_type": "handler_error",
            "error_message": _truncate(f"handler for {subject} failed: {message}", _MAX_REASON),
            "severity": "error",
            "action_required": "investigate",
            "subject": subject,
        }
        if payload.get("trace_id"):
            service_error["trace_id"] = payload["trace_id"]
        try:
            await self.publish("system.service.error", service_error)
        except Exception:
            self._log.exception("could not publish system.service.error")

    async def _reject(self, subject: str, msg: Msg, reason: str, detail: str, dead_letter: bool, decoded: object = None) -> None:
        self._count(subject, "stale" if reason == "stale" else "invalid")
        self._throttled(logging.WARNING, f"{reason}:{subject}", "rejected message on %s (%s): %s", subject, reason, detail)
        if dead_letter:
            await self._dead_letter(subject, msg, reason, detail, decoded)

    async def _dead_letter(self, subject: str, msg: Msg, reason: str, detail: str, decoded: object = None) -> None:
        # A dead letter that is itself bad is counted, never dead-lettered again (no loops).
        if is_dead_letter_subject(subject):
            return
        data = msg.data
        kept = data[: self.dead_letter_max_bytes]
        letter: Payload = {
            "timestamp": iso_timestamp(),
            "original_subject": subject[:1024],
            "error_type": reason,
            "reason": _truncate(detail, _MAX_REASON),
            "service": self.service,
            "instance_id": self.instance_id,
            "original_size_bytes": len(data),
            "original_payload_base64": base64.b64encode(kept).decode("ascii"),
            "truncated": len(kept) < len(data),
        }
        trace_id = decoded.get("trace_id") if isinstance(decoded, dict) else None
        if isinstance(trace_id, str) and _TRACE_ID.fullmatch(trace_id):
            letter["trace_id"] = trace_id
        try:
            # _send puts it in the tenant's namespace: t.<tenant>.dlq.<subject>.<reason>
            if await self._send(dead_letter_subject(subject, reason), _encode("dlq", letter)):
                self._count(subject, "dead_lettered")
        except Exception:
            self._log.exception("could not publish the dead letter of a message on %s", subject)

    def _count(self, subject: str, counter: str) -> None:
        self._totals[counter] += 1
        counts = self._per_subject.get(subject)
        if counts is None:
            if len(self._per_subject) >= _MAX_SUBJECT_COUNTERS:
                subject = "(other)"
            counts = self._per_subject.setdefault(subject, Counter())
        counts[counter] += 1

    def _throttled(self, level: int, key: str, message: str, *args: object) -> None:
        """At most 10 lines per key per 10 s, then one summary line: a flood must not drown the log."""
        now = time.monotonic()
        entry = self._throttle.get(key)  # [window start, lines, suppressed]
        if entry is None or now - entry[0] > 10:
            if entry is not None and entry[2] > 0:
                self._log.log(level, "suppressed %d similar messages (%s)", entry[2], key)
            if len(self._throttle) > 1000:
                self._throttle.clear()
            entry = self._throttle[key] = [now, 0, 0]
        entry[1] += 1
        if entry[1] <= 10:
            self._log.log(level, message, *args)
        else:
            entry[2] += 1


async def flush_nats(nc: NatsConnection, timeout: float = 2.0) -> None:
    """``nc.flush()``, after pushing out what nats-py still holds for its flusher task.

    nats-py (2.16) writes flush's PING straight to the socket, ahead of SUB and PUB commands still
    waiting in its pending buffer, so the PONG alone does not mean the server has them: a message
    published right after ``subscribe(); flush()`` could miss the subscription.
    """
    flush_pending = getattr(nc, "_flush_pending", None)
    if nc.is_connected and callable(flush_pending):
        await asyncio.wait_for(flush_pending(force_flush=True), timeout)
    await nc.flush(timeout=timeout)  # type: ignore[arg-type]  # typed int, takes seconds as float


def _encode(subject: str, payload: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise InvalidPayloadError(subject, "", f"(root): not JSON-serializable: {error}") from error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(data: bytes) -> Any:
    """JSON.parse(TextDecoder.decode(data)): invalid UTF-8 becomes U+FFFD, a BOM is dropped, NaN/Infinity refused."""
    return json.loads(data.decode("utf-8-sig", errors="replace"), parse_constant=_reject_constant)


def _truncate(text: str, limit: int) -> str:
    """The first ``limit`` UTF-16 code units (what the schemas' maxLength counts)."""
    if len(text) <= limit // 2 or (text.isascii() and len(text) <= limit):
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
