"""Running emulators as real HTTP servers on loopback (demo, benchmarks, end-to-end tests):
in this event loop (`serving`) or as separate processes (`spawn`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from gatewayhub_sandbox.faults import FaultPlan
from gatewayhub_sandbox.server import Emulator


@contextlib.asynccontextmanager
async def serving(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `emulator` with uvicorn in this event loop; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(emulator.app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        await emulator.drain()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()


@dataclass
class SandboxProcess:
    """A sandbox provider running in its own process (`spawn`)."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def spawn(
    name: str,
    *,
    currencies: Sequence[str] = ("EUR",),
    fee_percent: str = "2.0",
    webhook_url: str | None = None,
    faults: FaultPlan | None = None,
    workdir: Path | None = None,
    ready_within: float = 20.0,
) -> SandboxProcess:
    """Start `gatewayhub-sandbox` as a separate process on a free loopback port and wait
    until it accepts connections. Its log (uvicorn's, errors only) goes to
    `workdir/<name>.log` when `workdir` is given."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gatewayhub_sandbox",
        "--port",
        str(port),
        "--name",
        name,
        "--currencies",
        ",".join(currencies),
        "--fee-percent",
        fee_percent,
        "--log-level",
        "critical",
    ]
    if webhook_url:
        command += ["--webhook-url", webhook_url]
    log_path = None
    if workdir is not None:
        if faults is not None:
            plan_file = workdir / f"{name}.faults.json"
            plan_file.write_text(faults.model_dump_json())
            command += ["--faults", str(plan_file)]
        log_path = workdir / f"{name}.log"
    elif faults is not None:
        raise ValueError("a fault plan needs a workdir to be written to")
    with contextlib.ExitStack() as files:
        # The child keeps its own descriptor of the log; ours closes once it has started.
        log_target: Any = (
            files.enter_context(log_path.open("wb")) if log_path else subprocess.DEVNULL
        )
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=log_target, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + ready_within
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"sandbox {name} did not start on port {port}") from None
            time.sleep(0.05)
    return SandboxProcess(name, f"http://127.0.0.1:{port}", process)
