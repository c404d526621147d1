"""``python -m arc_sdk pub|request|sub`` as another process runs it."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import sys
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsConnection
from nats.aio.msg import Msg

from arc_sdk import Client, MessageMeta, Subjects, iso_timestamp, payload_error
from arc_sdk.client import flush_nats

VECTORS = json.loads(resources.files("arc_sdk").joinpath("contracts", "test-vectors.json").read_text("utf-8"))


def example(subject: str) -> dict[str, Any]:
    vector = next(v for v in VECTORS["payloads"] if v["subject"] == subject and v["name"] == "example")
    return copy.deepcopy(vector["payload"])


def without_filled(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in ("timestamp", "trace_id")}


async def cli(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arc_sdk", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def wait_ready(process: asyncio.subprocess.Process) -> None:
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), 10)
    assert line == b"ready\n", line


async def finish(process: asyncio.subprocess.Process, timeout: float = 10) -> tuple[int, list[Any], str]:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, [json.loads(line) for line in stdout.decode().splitlines()], stderr.decode()


@pytest.fixture
async def raw(nats_url: str) -> AsyncIterator[NatsConnection]:
    nc = await nats.connect(nats_url)
    yield nc
    await nc.close()


async def test_pub(nats_url: str, raw: NatsConnection) -> None:
    wire: asyncio.Queue[Msg] = asyncio.Queue()
    await raw.subscribe(Subjects.BRAIN_REQUEST, cb=wire.put)
    await flush_nats(raw)
    payload = without_filled(example(Subjects.BRAIN_REQUEST))
    code, lines, stderr = await finish(await cli("pub", "--server", nats_url, "--subject", Subjects.BRAIN_REQUEST, "--json", json.dumps(payload)))
    assert code == 0, stderr
    [sent] = lines
    assert without_filled(sent) == payload
    assert re.fullmatch(r"[0-9a-f]{32}", sent["trace_id"]) and sent["timestamp"].endswith("Z")
    msg = await asyncio.wait_for(wire.get(), 2)
    assert json.loads(msg.data) == sent


async def test_pub_refuses_an_invalid_payload(nats_url: str) -> None:
    payload = without_filled(example(Subjects.BRAIN_REQUEST))
    del payload["user_input"]
    code, lines, stderr = await finish(await cli("pub", "--server", nats_url, "--subject", Subjects.BRAIN_REQUEST, "--json", json.dumps(payload)))
    assert (code, lines) == (2, [])
    assert "invalid payload for agent.brain.request: user_input:" in stderr


async def test_sub(nats_url: str, raw: NatsConnection) -> None:
    dead_letters: asyncio.Queue[Msg] = asyncio.Queue()
    await raw.subscribe("dlq.>", cb=dead_letters.put)
    await flush_nats(raw)
    process = await cli("sub", "--server", nats_url, "--subject", "agent.brain.>", "--count", "2", "--timeout", "10")
    await wait_ready(process)
    first = {**example(Subjects.BRAIN_REQUEST), "timestamp": iso_timestamp()}
    second = {**example(Subjects.BRAIN_CANCEL), "timestamp": iso_timestamp()}
    await raw.publish(Subjects.BRAIN_REQUEST, b"not json")
    await raw.publish(Subjects.BRAIN_REQUEST, json.dumps(first).encode())
    await raw.publish(Subjects.BRAIN_CANCEL, json.dumps(second).encode())
    code, lines, stderr = await finish(process)
    assert code == 0, stderr
    assert lines == [{"subject": Subjects.BRAIN_REQUEST, "payload": first}, {"subject": Subjects.BRAIN_CANCEL, "payload": second}]
    letter = await asyncio.wait_for(dead_letters.get(), 2)
    assert letter.subject == "dlq.agent.brain.request.invalid_payload"
    assert json.loads(letter.data)["reason"].startswith("not JSON: ")


async def test_sub_times_out(nats_url: str) -> None:
    process = await cli("sub", "--server", nats_url, "--subject", Subjects.TTS_NOTICE, "--count", "1", "--timeout", "0.2")
    await wait_ready(process)
    code, lines, stderr = await finish(process)
    assert (code, lines) == (1, [])
    assert "timeout: 0 of 1 messages" in stderr


async def test_request(nats_url: str) -> None:
    async with await Client.connect(nats_url, service="fake-brain") as brain:

        async def answer(request: dict[str, Any], meta: MessageMeta) -> None:
            response = without_filled(example(Subjects.BRAIN_RESPONSE))
            # someone else's answer first: the CLI must wait for its own request_id
            await brain.publish(Subjects.BRAIN_RESPONSE, {**response, "request_id": "someone-else"})
            await brain.publish(Subjects.BRAIN_RESPONSE, {**response, "request_id": request["request_id"], "trace_id": request["trace_id"]})

        await brain.subscribe(Subjects.BRAIN_REQUEST, answer)
        await brain.flush()
        payload = {**without_filled(example(Subjects.BRAIN_REQUEST)), "request_id": "req-cli-1"}
        process = await cli(
            "request", "--server", nats_url, "--subject", Subjects.BRAIN_REQUEST, "--json", json.dumps(payload),
            "--reply-subject", Subjects.BRAIN_RESPONSE, "--timeout", "10",
        )  # fmt: skip
        code, lines, stderr = await finish(process)
    assert code == 0, stderr
    [reply] = lines
    assert reply["request_id"] == "req-cli-1"
    assert payload_error(Subjects.BRAIN_RESPONSE, reply) is None


async def test_connect_failure(nats_url: str) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, stderr = await finish(await cli("pub", "--server", f"nats://127.0.0.1:{port}", "--subject", Subjects.BRAIN_CANCEL, "--json", "{}", "--connect-timeout", "0.5"))
    assert code == 1 and "cannot connect to NATS" in stderr
