"""Command line: publish, request, subscribe (used by cross-language tests and for poking at a bus).

    python -m arc_sdk pub     --server URL --subject S --json '{...}'
    python -m arc_sdk request --server URL --subject S --json '{...}' --reply-subject R [--timeout 10]
    python -m arc_sdk sub     --server URL --subject S [--count N] [--timeout 10] [--queue Q]

Output on stdout, one JSON object a line: ``pub`` the payload as sent (timestamp and trace_id
filled), ``request`` the first valid message on R whose request_id matches, ``sub`` every accepted
message as ``{"subject": ..., "payload": ...}``. ``sub`` and ``request`` print ``ready`` on stderr
once subscribed. Exit codes: 0 done, 1 timeout or connection failure, 2 bad arguments or payload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from .client import Client, MessageMeta
from .errors import ArcError, ConnectError, InvalidPayloadError, InvalidSubjectError, PayloadTooLargeError

DEFAULT_SERVER = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")


def _line(value: object) -> None:
    sys.stdout.write(json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _ready() -> None:
    sys.stderr.write("ready\n")
    sys.stderr.flush()


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--json is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise UsageError("--json must be a JSON object")
    return value


class UsageError(Exception):
    pass


async def _connect(args: argparse.Namespace) -> Client:
    return await Client.connect(args.server, service=args.service, instance_id=args.instance_id, connect_timeout=args.connect_timeout)


async def pub(args: argparse.Namespace) -> int:
    payload = _payload(args.json)
    async with await _connect(args) as client:
        published = await client.publish(args.subject, payload)
        await client.flush()
    if not published.sent:
        print("not connected to NATS: nothing was sent", file=sys.stderr)
        return 1
    _line(published.payload)
    return 0


async def request(args: argparse.Namespace) -> int:
    payload = _payload(args.json)
    if "request_id" not in payload:
        raise UsageError("--json has no request_id to match replies by")
    request_id = payload["request_id"]
    async with await _connect(args) as client:
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def on_reply(reply: dict[str, Any], meta: MessageMeta) -> None:
            if reply.get("request_id") == request_id and not answer.done():
                answer.set_result(reply)

        await client.subscribe(args.reply_subject, on_reply, dead_letter=not args.no_dead_letter)
        await client.flush()
        _ready()
        await client.publish(args.subject, payload)
        try:
            reply = await asyncio.wait_for(answer, args.timeout)
        except asyncio.TimeoutError:
            print(f"timeout: no message on {args.reply_subject} with request_id {request_id!r} within {args.timeout:g} s", file=sys.stderr)
            return 1
    _line(reply)
    return 0


async def sub(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        done = asyncio.Event()
        received = 0

        def on_message(payload: dict[str, Any], meta: MessageMeta) -> None:
            nonlocal received
            if args.count is not None and received >= args.count:
                return
            received += 1
            _line({"subject": meta.subject, "payload": payload})
            if args.count is not None and received >= args.count:
                done.set()

        await client.subscribe(args.subject, on_message, queue=args.queue, dead_letter=not args.no_dead_letter)
        await client.flush()
        _ready()
        try:
            await asyncio.wait_for(done.wait(), args.timeout)
        except asyncio.TimeoutError:
            if args.count is not None:
                print(f"timeout: {received} of {args.count} messages on {args.subject} within {args.timeout:g} s", file=sys.stderr)
                return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m arc_sdk", description="ARC bus from the command line (Python SDK).")
    commands = top.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help)
        p.add_argument("--server", default=DEFAULT_SERVER, help=f"NATS URL (default $NATS_URL or {DEFAULT_SERVER})")
        p.add_argument("--subject", required=True)
        p.add_argument("--service", default="arc-sdk-python-cli", help="service name in dead letters and errors")
        p.add_argument("--instance-id", default=None)
        p.add_argument("--connect-timeout", type=float, default=2.0, help="seconds to keep trying to connect (default 2)")
        return p

    p = command("pub", "validate and publish one payload; prints it as sent")
    p.add_argument("--json", required=True, help="the payload; timestamp and trace_id are filled when absent")

    p = command("request", "publish, then print the first valid message on --reply-subject with the same request_id")
    p.add_argument("--json", required=True)
    p.add_argument("--reply-subject", required=True)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--no-dead-letter", action="store_true", help="do not republish rejected replies to dlq.>")

    p = command("sub", "print accepted messages as JSON lines; bad ones are dead-lettered")
    p.add_argument("--count", type=int, default=None, help="exit after this many messages")
    p.add_argument("--timeout", type=float, default=None, help="seconds; with --count, exit 1 when fewer arrived")
    p.add_argument("--queue", default=None, help="queue group")
    p.add_argument("--no-dead-letter", action="store_true", help="do not republish rejected messages to dlq.>")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    run = {"pub": pub, "request": request, "sub": sub}[args.command]
    try:
        return asyncio.run(run(args))
    except (UsageError, InvalidPayloadError, InvalidSubjectError, PayloadTooLargeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ConnectError, ArcError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
