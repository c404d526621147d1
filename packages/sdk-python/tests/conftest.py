"""Fixtures: real nats-server processes on free loopback ports, and clients connected to them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arc_sdk import Client


def nats_server_binary() -> str | None:
    candidates = [os.environ.get("NATS_SERVER_BIN"), shutil.which("nats-server"), "/usr/sbin/nats-server", "/usr/local/bin/nats-server"]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """``nats-server -a 127.0.0.1 -p PORT [-c CONFIG]``, stopped on ``stop()``."""

    def __init__(self, binary: str, config: str | None = None) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="arc-sdk-nats-")
        args = [binary, "-a", "127.0.0.1", "-p", str(self.port)]
        if config is not None:
            path = Path(self._dir.name) / "nats.conf"
            path.write_text(config)
            args += ["-c", str(path)]
        self._log = open(Path(self._dir.name) / "nats.log", "w+b")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                self._log.seek(0)
                raise RuntimeError(f"nats-server exited ({self.process.returncode}): {self._log.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nats-server did not listen on {self.url} within 10 s") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self._dir.cleanup()


def start_server(config: str | None = None) -> NatsServer:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip("no nats-server binary: install nats-server (apt-get install nats-server) or set NATS_SERVER_BIN")
    return NatsServer(binary, config)


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    server = start_server()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def small_nats_url() -> Iterator[str]:
    """A server whose max_payload is 4096 bytes."""
    server = start_server("max_payload: 4096\n")
    yield server.url
    server.stop()


@pytest.fixture
def own_server() -> Iterator[Callable[..., NatsServer]]:
    """``own_server(config=None)``: a nats-server of the test's own (to stop it, or with its own
    configuration), stopped after the test."""
    servers: list[NatsServer] = []

    def factory(config: str | None = None) -> NatsServer:
        servers.append(start_server(config))
        return servers[-1]

    yield factory
    for server in servers:
        server.stop()


ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def connect(nats_url: str) -> AsyncIterator[ClientFactory]:
    """``await connect(service=..., **options)``: clients closed after the test."""
    clients: list[Client] = []

    async def factory(url: str = nats_url, service: str = "arc-sdk-test", **options: Any) -> Client:
        client = await Client.connect(url, service=service, **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()
