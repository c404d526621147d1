"""The client against a real nats-server: publish rules, the receive rules, dead letters, counters."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

import nats
import pytest
from jsonschema import Draft7Validator
from nats.aio.client import Client as NatsConnection
from nats.aio.msg import Msg

from arc_sdk import (
    Client,
    ConnectError,
    InvalidPayloadError,
    InvalidSubjectError,
    InvalidTenantError,
    MessageMeta,
    NoRespondersError,
    PayloadTooLargeError,
    Subjects,
    iso_timestamp,
    payload_error,
    tenant_permissions,
    worker_subject,
)
from arc_sdk.client import flush_nats
from arc_sdk.ids import now_ms

ClientFactory = Callable[..., Awaitable[Client]]  # the `connect` fixture

CONTRACTS = resources.files("arc_sdk").joinpath("contracts")
VECTORS = json.loads(CONTRACTS.joinpath("test-vectors.json").read_text("utf-8"))
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
TRACE_ID = re.compile(r"[0-9a-f]{32}")
TRACE = "0af7651916cd43dd8448eb211c80319c"


def schema_validator(name: str) -> Draft7Validator:
    """A plain jsonschema validator (not the SDK's), to check what the SDK sends."""
    schema = json.loads(CONTRACTS.joinpath(f"{name}.schema.json").read_text("utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


DLQ = schema_validator("dlq")
SERVICE_ERROR = schema_validator(Subjects.SERVICE_ERROR)


def example(subject: str, **changes: Any) -> dict[str, Any]:
    vector = next(v for v in VECTORS["payloads"] if v["subject"] == subject and v["name"] == "example")
    return {**copy.deepcopy(vector["payload"]), **changes}


def fresh(subject: str, **changes: Any) -> dict[str, Any]:
    """The example with a current timestamp and a W3C trace id."""
    return example(subject, **{"timestamp": iso_timestamp(), "trace_id": TRACE, **changes})


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture
async def raw(nats_url: str) -> AsyncIterator[NatsConnection]:
    """A bare nats-py connection, to see exactly what the SDK puts on the wire."""
    nc = await nats.connect(nats_url)
    yield nc
    await nc.close()


async def listen(nc: NatsConnection, subject: str) -> asyncio.Queue[Msg]:
    queue: asyncio.Queue[Msg] = asyncio.Queue()
    await nc.subscribe(subject, cb=queue.put)
    await flush_nats(nc)
    return queue


async def next_json(queue: asyncio.Queue[Msg], timeout: float = 2.0) -> tuple[str, Any]:
    msg = await asyncio.wait_for(queue.get(), timeout)
    return msg.subject, json.loads(msg.data)


async def next_raw(queue: asyncio.Queue[Msg], timeout: float = 2.0) -> tuple[str, bytes]:
    msg = await asyncio.wait_for(queue.get(), timeout)
    return msg.subject, msg.data


async def nothing_on(queue: asyncio.Queue[Msg], wait: float = 0.2) -> None:
    await asyncio.sleep(wait)
    assert queue.empty(), f"unexpected message on {queue.get_nowait().subject}"


# ----------------------------------------------------------------------------- publish


async def test_publish_fills_timestamp_and_trace_id(connect: ClientFactory, raw: NatsConnection) -> None:
    client = await connect()
    wire = await listen(raw, Subjects.BRAIN_REQUEST)
    given = {"request_id": "req-1", "session_id": "session-1", "user_input": "hello"}
    before = now_ms()
    published = await client.publish(Subjects.BRAIN_REQUEST, given)
    assert published.sent
    assert given == {"request_id": "req-1", "session_id": "session-1", "user_input": "hello"}  # not changed
    _, sent = await next_json(wire)
    assert sent == published.payload
    assert TIMESTAMP.fullmatch(sent["timestamp"]), sent["timestamp"]
    assert TRACE_ID.fullmatch(sent["trace_id"]), sent["trace_id"]
    from arc_sdk import parse_timestamp_ms

    assert before - 1 <= parse_timestamp_ms(sent["timestamp"]) <= now_ms() + 1

    kept = await client.publish(Subjects.BRAIN_REQUEST, {**given, "timestamp": "2025-12-14T13:30:00.000Z", "trace_id": TRACE})
    assert kept.payload["timestamp"] == "2025-12-14T13:30:00.000Z" and kept.payload["trace_id"] == TRACE
    assert (await next_json(wire))[1]["trace_id"] == TRACE


async def test_heartbeat_gets_no_trace_id(connect: ClientFactory) -> None:
    client = await connect()
    heartbeat = {k: v for k, v in example(Subjects.HEALTH_HEARTBEAT).items() if k != "timestamp"}
    published = await client.publish(Subjects.HEALTH_HEARTBEAT, heartbeat)
    assert "trace_id" not in published.payload and TIMESTAMP.fullmatch(published.payload["timestamp"])


async def test_publish_refuses_invalid_payloads_and_subjects(connect: ClientFactory, raw: NatsConnection) -> None:
    client = await connect()
    wire = await listen(raw, "agent.>")
    with pytest.raises(InvalidPayloadError) as raised:
        await client.publish(Subjects.BRAIN_REQUEST, {"request_id": "r", "session_id": "s"})
    assert raised.value.field == "user_input"
    assert "user_input" in str(raised.value)
    with pytest.raises(InvalidPayloadError, match='no schema for subject "agent.brain.nothing"'):
        await client.publish("agent.brain.nothing", {})
    with pytest.raises(InvalidSubjectError):
        await client.publish("agent.brain.*", {})
    await nothing_on(wire)
    assert client.stats()["published"] == 0


async def test_oversize_payload_refused(connect: ClientFactory, small_nats_url: str) -> None:
    client = await connect(small_nats_url)
    assert client.max_payload_bytes == 4096
    big = {"request_id": "r", "session_id": "s", "user_input": "x" * 5000}
    with pytest.raises(PayloadTooLargeError) as raised:
        await client.publish(Subjects.BRAIN_REQUEST, big)
    assert raised.value.max_bytes == 4096 and raised.value.size_bytes > 5000
    assert "over the server's max_payload of 4096 bytes" in str(raised.value)
    assert (await client.publish(Subjects.BRAIN_REQUEST, {**big, "user_input": "x" * 3000})).sent
    await client.flush()
    assert client.stats()["published"] == 1


# ----------------------------------------------------------------------------- receive rules


async def test_valid_message_is_handled(connect: ClientFactory) -> None:
    client = await connect()
    got: asyncio.Queue[tuple[dict[str, Any], MessageMeta]] = asyncio.Queue()
    await client.subscribe(Subjects.BRAIN_REQUEST, lambda payload, meta: got.put_nowait((payload, meta)))
    await client.flush()
    sent = (await client.publish(Subjects.BRAIN_REQUEST, fresh(Subjects.BRAIN_REQUEST))).payload
    payload, meta = await asyncio.wait_for(got.get(), 2)
    assert payload == sent
    assert meta.subject == Subjects.BRAIN_REQUEST
    assert meta.size_bytes == len(json.dumps(sent, separators=(",", ":"), ensure_ascii=False).encode())
    assert 0 <= meta.hop_latency_ms < 1000
    stats = client.stats()
    assert (stats["received"], stats["handled"], stats["invalid"], stats["dead_lettered"]) == (1, 1, 0, 0)


def _old(seconds: float) -> str:
    return iso_timestamp(now_ms() - seconds * 1000)


REJECTS: list[tuple[str, str, Callable[[], bytes], str, str, bool]] = [
    # (name, subject, message bytes, dead-letter subject, reason pattern, trace_id copied)
    ("not JSON", Subjects.BRAIN_REQUEST, lambda: b"not json {", "dlq.agent.brain.request.invalid_payload", r"not JSON: .+", False),
    (
        "schema failure",
        Subjects.BRAIN_REQUEST,
        lambda: encode({k: v for k, v in fresh(Subjects.BRAIN_REQUEST).items() if k != "user_input"}),
        "dlq.agent.brain.request.invalid_payload",
        re.escape("user_input: 'user_input' is a required property"),
        True,
    ),
    (
        "unknown subject",
        "agent.brain.nothing",
        lambda: encode(fresh(Subjects.BRAIN_REQUEST)),
        "dlq.agent.brain.nothing.unknown_subject",
        re.escape('no schema for subject "agent.brain.nothing"'),
        False,
    ),
    (
        "in the future",
        Subjects.BRAIN_REQUEST,
        lambda: encode(fresh(Subjects.BRAIN_REQUEST, timestamp=_old(-60))),
        "dlq.agent.brain.request.invalid_payload",
        r"timestamp: \S+Z is in the future",
        True,
    ),
    (
        "stale",
        Subjects.BRAIN_REQUEST,
        lambda: encode(fresh(Subjects.BRAIN_REQUEST, timestamp=_old(120))),
        "dlq.agent.brain.request.stale",
        r"timestamp: \S+Z is 1200\d\d ms old, over the 60000 ms TTL",
        True,
    ),
    (
        "worker subject, schema failure",
        "agent.tts.worker.tts-1.request",
        lambda: encode(fresh(Subjects.TTS_REQUEST, text=12345)),
        "dlq.agent.tts.worker.tts-1.request.invalid_payload",
        re.escape("text: must be string (got 12345)"),
        True,
    ),
]


@pytest.mark.parametrize(("name", "subject", "data", "dlq_subject", "reason", "traced"), REJECTS, ids=[r[0] for r in REJECTS])
async def test_rejected_messages_are_dead_lettered(
    connect: ClientFactory,
    raw: NatsConnection,
    name: str,
    subject: str,
    data: Callable[[], bytes],
    dlq_subject: str,
    reason: str,
    traced: bool,
) -> None:
    client = await connect(service="arc-sdk-test", instance_id="sdk-test-1")
    dead_letters = await listen(raw, "dlq.>")
    handled: list[object] = []
    await client.subscribe("agent.>", lambda payload, meta: handled.append(payload))
    await client.flush()
    message = data()
    await raw.publish(subject, message)

    got_subject, letter = await next_json(dead_letters)
    assert got_subject == dlq_subject
    assert list(DLQ.iter_errors(letter)) == []
    assert re.fullmatch(reason, letter["reason"]), letter["reason"]
    assert letter["original_subject"] == subject
    assert letter["error_type"] == dlq_subject.rsplit(".", 1)[1]
    assert (letter["service"], letter["instance_id"]) == ("arc-sdk-test", "sdk-test-1")
    assert letter["original_size_bytes"] == len(message)
    assert base64.b64decode(letter["original_payload_base64"]) == message
    assert letter["truncated"] is False
    assert TIMESTAMP.fullmatch(letter["timestamp"])
    assert letter.get("trace_id") == (TRACE if traced else None)
    assert handled == []
    await client.flush()
    stats = client.stats()
    expected_stale = 1 if name == "stale" else 0
    assert (stats["received"], stats["handled"], stats["invalid"], stats["stale"], stats["dead_lettered"]) == (
        1,
        0,
        1 - expected_stale,
        expected_stale,
        1,
    )
    assert client.subject_stats()[subject]["dead_lettered"] == 1


async def test_dead_letters_keep_the_first_bytes(connect: ClientFactory, raw: NatsConnection) -> None:
    client = await connect()
    dead_letters = await listen(raw, "dlq.>")
    await client.subscribe(Subjects.BRAIN_REQUEST, lambda payload, meta: None)
    await client.flush()
    message = b"x" * 10_000
    await raw.publish(Subjects.BRAIN_REQUEST, message)
    _, letter = await next_json(dead_letters)
    assert letter["truncated"] is True and letter["original_size_bytes"] == 10_000
    assert base64.b64decode(letter["original_payload_base64"]) == message[:4096]
    assert list(DLQ.iter_errors(letter)) == []


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_handler_error(connect: ClientFactory, raw: NatsConnection, kind: str) -> None:
    client = await connect(service="arc-sdk-test", instance_id="sdk-test-2")
    dead_letters = await listen(raw, "dlq.>")
    service_errors = await listen(raw, Subjects.SERVICE_ERROR)

    def fail(payload: dict[str, Any], meta: MessageMeta) -> None:
        raise ValueError("boom")

    async def fail_later(payload: dict[str, Any], meta: MessageMeta) -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    await client.subscribe(Subjects.BRAIN_REQUEST, fail if kind == "sync" else fail_later)
    await client.flush()
    message = encode(fresh(Subjects.BRAIN_REQUEST))
    await raw.publish(Subjects.BRAIN_REQUEST, message)

    got_subject, letter = await next_json(dead_letters)
    assert got_subject == "dlq.agent.brain.request.handler_error"
    assert list(DLQ.iter_errors(letter)) == []
    assert letter["reason"] == "boom" and letter["error_type"] == "handler_error" and letter["trace_id"] == TRACE
    assert base64.b64decode(letter["original_payload_base64"]) == message

    _, error = await next_json(service_errors)
    assert list(SERVICE_ERROR.iter_errors(error)) == []
    assert {k: v for k, v in error.items() if k != "timestamp"} == {
        "service": "arc-sdk-test",
        "instance_id": "sdk-test-2",
        "error_type": "handler_error",
        "error_message": "handler for agent.brain.request failed: boom",
        "severity": "error",
        "action_required": "investigate",
        "subject": Subjects.BRAIN_REQUEST,
        "trace_id": TRACE,
    }
    await client.flush()
    stats = client.stats()
    assert (stats["received"], stats["handled"], stats["handler_errors"], stats["dead_lettered"], stats["invalid"]) == (1, 1, 1, 1, 0)


async def test_dead_letters_are_never_dead_lettered_again(connect: ClientFactory, raw: NatsConnection) -> None:
    client = await connect()
    loops = await listen(raw, "dlq.dlq.>")
    got: list[dict[str, Any]] = []
    await client.subscribe("dlq.>", lambda payload, meta: got.append(payload))
    await client.flush()
    await raw.publish("dlq.agent.brain.request.stale", b"garbage")
    # An old dead letter is not stale: the TTL does not apply on dlq.*
    letter = {
        "timestamp": _old(3600),
        "original_subject": Subjects.BRAIN_REQUEST,
        "error_type": "stale",
        "reason": "old",
        "service": "other",
        "instance_id": "other-1",
        "original_size_bytes": 2,
        "original_payload_base64": "e30=",
        "truncated": False,
    }
    await raw.publish("dlq.agent.brain.request.stale", encode(letter))
    await flush_nats(raw)
    await nothing_on(loops, 0.3)
    assert got == [letter]
    stats = client.stats()
    assert (stats["received"], stats["invalid"], stats["handled"], stats["dead_lettered"]) == (2, 1, 1, 0)


async def test_passive_subscription_counts_without_dead_lettering(connect: ClientFactory, raw: NatsConnection) -> None:
    client = await connect()
    dead_letters = await listen(raw, "dlq.>")
    await client.subscribe(Subjects.BRAIN_REQUEST, lambda payload, meta: None, dead_letter=False)
    await client.flush()
    await raw.publish(Subjects.BRAIN_REQUEST, b"{}")
    await flush_nats(raw)
    await nothing_on(dead_letters)
    assert client.stats()["invalid"] == 1 and client.stats()["dead_lettered"] == 0


async def test_queue_group_and_worker_subjects(connect: ClientFactory) -> None:
    a, b, sender = await connect(), await connect(), await connect()
    seen: list[str] = []
    for client in (a, b):
        await client.subscribe(Subjects.BRAIN_REQUEST, lambda payload, meta: seen.append(payload["request_id"]), queue="brain")
        await client.flush()
    for i in range(10):
        await sender.publish(Subjects.BRAIN_REQUEST, fresh(Subjects.BRAIN_REQUEST, request_id=f"req-{i}"))
    target = worker_subject(Subjects.TTS_REQUEST, "tts-7")
    on_worker: asyncio.Queue[str] = asyncio.Queue()
    await a.subscribe(target, lambda payload, meta: on_worker.put_nowait(meta.subject))
    await a.flush()
    await sender.publish(target, fresh(Subjects.TTS_REQUEST))
    assert await asyncio.wait_for(on_worker.get(), 2) == target
    await sender.flush()
    await asyncio.sleep(0.1)
    assert sorted(seen) == sorted(f"req-{i}" for i in range(10))
    assert a.stats()["handled"] + b.stats()["handled"] == 11


def tts_accepted(request: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """The reply of a TTS worker that takes the room of ``request``."""
    return {
        "request_id": request["request_id"],
        "instance_id": instance_id,
        "target_room": request["target_room"],
        "worker_subject": worker_subject(Subjects.TTS_REQUEST, instance_id),
    }


async def test_request_and_respond(connect: ClientFactory) -> None:
    worker, caller = await connect(service="tts", instance_id="tts-1"), await connect()

    async def accept(payload: dict[str, Any], meta: MessageMeta) -> None:
        await meta.respond(tts_accepted(payload, "tts-1"))

    await worker.subscribe(Subjects.TTS_REQUEST, accept, queue="tts")
    await worker.flush()
    request = {k: v for k, v in example(Subjects.TTS_REQUEST).items() if k not in ("timestamp", "trace_id")}
    sent, reply = await caller.request(Subjects.TTS_REQUEST, request, timeout=2)
    assert reply["worker_subject"] == "agent.tts.worker.tts-1.request"
    assert reply["trace_id"] == sent["trace_id"] and reply["request_id"] == sent["request_id"]
    assert payload_error(Subjects.TTS_REQUEST, sent) is None
    with pytest.raises(NoRespondersError):
        await caller.request(worker_subject(Subjects.TTS_REQUEST, "nobody"), request, timeout=2)
    with pytest.raises(InvalidSubjectError, match="does not take requests"):
        await caller.request(Subjects.BRAIN_REQUEST, fresh(Subjects.BRAIN_REQUEST))


async def test_stats_fit_the_heartbeat(connect: ClientFactory) -> None:
    client = await connect()
    heartbeat = example(Subjects.HEALTH_HEARTBEAT)
    heartbeat["metrics"] = {**heartbeat["metrics"], "bus": client.stats()}
    assert payload_error(Subjects.HEALTH_HEARTBEAT, heartbeat) is None


async def test_close_waits_for_running_handlers(nats_url: str, raw: NatsConnection) -> None:
    client = await Client.connect(nats_url, service="arc-sdk-test")
    done: list[str] = []

    async def slow(payload: dict[str, Any], meta: MessageMeta) -> None:
        await asyncio.sleep(0.2)
        done.append(payload["request_id"])

    await client.subscribe(Subjects.BRAIN_REQUEST, slow)
    await client.flush()
    await raw.publish(Subjects.BRAIN_REQUEST, encode(fresh(Subjects.BRAIN_REQUEST)))
    await flush_nats(raw)
    await asyncio.sleep(0.05)
    await client.close()
    assert done == [example(Subjects.BRAIN_REQUEST)["request_id"]]
    assert not client.is_connected


async def test_publishes_while_disconnected_are_dropped_and_counted(own_server: Callable[[], Any]) -> None:
    server = own_server()
    client = await Client.connect(server.url, service="arc-sdk-test")
    try:
        assert (await client.publish(Subjects.BRAIN_CANCEL, {"request_id": "r"})).sent
        server.stop()
        for _ in range(100):
            if not client.is_connected:
                break
            await asyncio.sleep(0.02)
        assert not client.is_connected
        published = await client.publish(Subjects.BRAIN_CANCEL, {"request_id": "r"})
        assert published.sent is False and published.payload["request_id"] == "r"
        assert (client.stats()["published"], client.stats()["dropped"]) == (1, 1)
    finally:
        await client.close(deadline=1)


# ----------------------------------------------------------------------------- tenants


async def test_tenant_publish_and_subscribe_in_its_namespace(connect: ClientFactory, raw: NatsConnection) -> None:
    sender, receiver, plain = await connect(tenant="acme"), await connect(tenant="acme"), await connect()
    assert (sender.tenant, plain.tenant) == ("acme", None)
    wire = await listen(raw, ">")
    got: asyncio.Queue[tuple[dict[str, Any], MessageMeta]] = asyncio.Queue()
    await receiver.subscribe("agent.>", lambda payload, meta: got.put_nowait((payload, meta)))
    await receiver.flush()
    outsider: list[str] = []
    await plain.subscribe("agent.>", lambda payload, meta: outsider.append(meta.subject))
    await plain.flush()

    sent = (await sender.publish(Subjects.BRAIN_REQUEST, fresh(Subjects.BRAIN_REQUEST))).payload
    subject, on_wire = await next_json(wire)
    assert subject == "t.acme.agent.brain.request" and on_wire == sent
    payload, meta = await asyncio.wait_for(got.get(), 2)
    assert payload == sent and meta.subject == Subjects.BRAIN_REQUEST
    # Counters are kept under the subject without the prefix.
    assert list(receiver.subject_stats()) == [Subjects.BRAIN_REQUEST] and receiver.subject_stats()[Subjects.BRAIN_REQUEST]["handled"] == 1
    assert list(sender.subject_stats()) == [Subjects.BRAIN_REQUEST]

    # The owner's copy of an answering event is in the namespace too.
    response = fresh(Subjects.BRAIN_RESPONSE)
    await sender.publish(Subjects.BRAIN_RESPONSE, response, owner="voice-1")
    assert [(await next_json(wire))[0] for _ in range(2)] == ["t.acme.agent.brain.response", "t.acme.agent.brain.to.voice-1.response"]
    assert (await asyncio.wait_for(got.get(), 2))[1].subject == Subjects.BRAIN_RESPONSE
    assert (await asyncio.wait_for(got.get(), 2))[1].subject == "agent.brain.to.voice-1.response"

    # A client without a tenant sees none of it, and the tenant none of the plain namespace.
    await plain.publish(Subjects.BRAIN_CANCEL, {"request_id": "r"})
    assert (await next_json(wire))[0] == Subjects.BRAIN_CANCEL
    await sender.flush()
    await plain.flush()
    await asyncio.sleep(0.2)
    assert outsider == [Subjects.BRAIN_CANCEL]
    assert got.empty()


async def test_tenant_dead_letters_and_service_errors_stay_in_the_namespace(connect: ClientFactory, raw: NatsConnection) -> None:
    sender = await connect(tenant="acme")
    receiver = await connect(service="arc-sdk-test", instance_id="sdk-tenant-1", tenant="acme")
    wire = await listen(raw, ">")
    untenanted = await listen(raw, "dlq.>")

    def fail(payload: dict[str, Any], meta: MessageMeta) -> None:
        raise ValueError("boom")

    await receiver.subscribe("agent.>", fail, queue="brain")
    await receiver.flush()

    message = b"not json {"
    assert await sender.publish_raw(Subjects.BRAIN_REQUEST, message)
    assert (await next_raw(wire))[0] == "t.acme.agent.brain.request"
    subject, letter = await next_json(wire)
    assert subject == "t.acme.dlq.agent.brain.request.invalid_payload"
    assert list(DLQ.iter_errors(letter)) == []
    assert letter["original_subject"] == Subjects.BRAIN_REQUEST and letter["error_type"] == "invalid_payload"
    assert base64.b64decode(letter["original_payload_base64"]) == message
    assert re.fullmatch(r"not JSON: .+", letter["reason"])

    await sender.publish(Subjects.BRAIN_REQUEST, fresh(Subjects.BRAIN_REQUEST))
    assert (await next_json(wire))[0] == "t.acme.agent.brain.request"
    subject, letter = await next_json(wire)
    assert subject == "t.acme.dlq.agent.brain.request.handler_error" and letter["original_subject"] == Subjects.BRAIN_REQUEST
    subject, error = await next_json(wire)
    assert subject == "t.acme.system.service.error"
    assert list(SERVICE_ERROR.iter_errors(error)) == []
    assert error["subject"] == Subjects.BRAIN_REQUEST and error["error_message"] == "handler for agent.brain.request failed: boom"
    await nothing_on(untenanted)
    await receiver.flush()
    assert receiver.subject_stats()[Subjects.BRAIN_REQUEST]["dead_lettered"] == 2


async def test_tenant_request_replies_come_to_its_inbox(connect: ClientFactory, raw: NatsConnection) -> None:
    worker, caller = await connect(service="tts", instance_id="tts-1", tenant="acme"), await connect(tenant="acme")
    plain = await connect()
    replies: list[str | None] = []

    async def accept(payload: dict[str, Any], meta: MessageMeta) -> None:
        replies.append(meta.reply_subject)
        assert meta.subject == Subjects.TTS_REQUEST
        await meta.respond(tts_accepted(payload, "tts-1"))

    await worker.subscribe(Subjects.TTS_REQUEST, accept, queue="tts")
    await worker.flush()
    request = {k: v for k, v in example(Subjects.TTS_REQUEST).items() if k not in ("timestamp", "trace_id")}
    # Outside the namespace nobody answers agent.tts.request (asked before `raw` listens on ">").
    with pytest.raises(NoRespondersError):
        await plain.request(Subjects.TTS_REQUEST, request, timeout=2)
    wire = await listen(raw, ">")
    sent, reply = await caller.request(Subjects.TTS_REQUEST, request, timeout=2)
    assert reply["request_id"] == sent["request_id"] and reply["trace_id"] == sent["trace_id"]
    assert len(replies) == 1 and replies[0] is not None and replies[0].startswith("_INBOX_acme."), replies
    seen = {(await next_raw(wire))[0] for _ in range(3)}
    assert seen == {"t.acme.agent.tts.request", "t.acme.audit.agent.tts.request", replies[0]}
    assert replies == [replies[0]] and worker.stats()["handled"] == 1


async def test_invalid_tenant_refused_at_connect(nats_url: str) -> None:
    with pytest.raises(InvalidTenantError, match='invalid tenant id "Acme"'):
        await Client.connect(nats_url, service="arc-sdk-test", tenant="Acme")
    nc = await nats.connect(nats_url)
    try:
        with pytest.raises(InvalidTenantError):
            Client(nc, service="arc-sdk-test", tenant="t.acme")
    finally:
        await nc.close()


async def test_nkeys_seed_needs_the_nkeys_package(nats_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nkeys" else real_find_spec(name, *a))
    with pytest.raises(ConnectError, match=r"nkeys_seed needs the nkeys package"):
        await Client.connect(nats_url, service="arc-sdk-test", nkeys_seed=str(tmp_path / "acme.nk"))


async def test_tenant_with_nkey_credentials(own_server: Callable[..., Any], tmp_path: Any) -> None:
    """A tenant's NATS user allowed only t.acme.> and _INBOX_acme.> (as `arc tenant add` writes it)."""
    nkeys = pytest.importorskip("nkeys")
    seeds = {}
    users = []
    for name in ("acme", "other"):
        seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
        (tmp_path / f"{name}.nk").write_bytes(seed + b"\n")
        seeds[name] = tmp_path / f"{name}.nk"
        allowed = json.dumps(tenant_permissions(name)["publish"])
        public = nkeys.from_seed(bytearray(seed)).public_key.decode()
        users.append(f'{{ nkey: "{public}", permissions: {{ publish: {{ allow: {allowed} }}, subscribe: {{ allow: {allowed} }} }} }}')
    server = own_server("authorization {\n  users = [\n    " + ",\n    ".join(users) + "\n  ]\n}\n")
    clients: list[Client] = []
    try:
        with pytest.raises(ConnectError):
            await Client.connect(server.url, service="arc-sdk-test", tenant="acme", connect_timeout=1)  # no credentials
        with pytest.raises(ConnectError, match="no nkey seed file .*nobody.nk"):
            await Client.connect(server.url, service="arc-sdk-test", tenant="acme", nkeys_seed=tmp_path / "nobody.nk", connect_timeout=1)
        (tmp_path / "bad.nk").write_text("not a seed\n")
        with pytest.raises(ConnectError):
            await Client.connect(server.url, service="arc-sdk-test", tenant="acme", nkeys_seed=tmp_path / "bad.nk", connect_timeout=1)
        for name in ("acme", "acme", "other"):
            clients.append(await Client.connect(server.url, service="arc-sdk-test", tenant=name, nkeys_seed=seeds[name]))
        worker, caller, other = clients
        got: asyncio.Queue[str] = asyncio.Queue()
        foreign: list[str] = []

        async def accept(payload: dict[str, Any], meta: MessageMeta) -> None:
            got.put_nowait(meta.subject)
            await meta.respond(tts_accepted(payload, "tts-1"))

        await worker.subscribe(Subjects.TTS_REQUEST, accept)
        await worker.flush()
        request = {k: v for k, v in example(Subjects.TTS_REQUEST).items() if k not in ("timestamp", "trace_id")}
        with pytest.raises(NoRespondersError):  # acme's worker does not answer tenant "other"
            await other.request(Subjects.TTS_REQUEST, request, timeout=2)
        await other.subscribe("agent.>", lambda payload, meta: foreign.append(meta.subject))
        await other.flush()
        # The reply is allowed only because it comes to _INBOX_acme.…, not to the default _INBOX.…
        _, reply = await caller.request(Subjects.TTS_REQUEST, request, timeout=2)
        assert reply["worker_subject"] == "agent.tts.worker.tts-1.request"
        assert await asyncio.wait_for(got.get(), 2) == Subjects.TTS_REQUEST
        assert (await caller.publish(Subjects.BRAIN_REQUEST, fresh(Subjects.BRAIN_REQUEST))).sent
        await caller.flush()
        await asyncio.sleep(0.1)
        assert foreign == []
        assert (caller.stats()["published"], worker.stats()["handled"], other.stats()["received"]) == (2, 1, 0)
    finally:
        for client in clients:
            await client.close(deadline=1)
