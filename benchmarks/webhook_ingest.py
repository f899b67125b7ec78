"""Provider-webhook ingest throughput through `gatewayhub serve`, beside a bare endpoint.

Both arms run on the same server stack (uvicorn + Starlette, one process each, loopback),
driven by the same closed-loop client (`--concurrency` requests in flight):

- bare: a Starlette route that reads the body and answers 200, nothing else;
- gatewayhub: POST /v1/webhooks/sandbox/<account> - Standard Webhooks signature checked on
  the raw body, the event parsed, stored in the inbox deduplicated by (account, event id) on
  a SQLite file, and the sandbox's acknowledgement returned. Every event has its own id, so
  each one is stored (none is a duplicate); applying them is the inbox worker's job, later.

    python benchmarks/webhook_ingest.py [--events 3000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from service_latency import GATEWAYHUB, free_port, wait_http

HEADING = "## Webhook ingest: gatewayhub serve vs a bare endpoint"
# The embedded sandbox's well-known local secret (not a secret: see gatewayhub_sandbox).
SECRET = "whsec_" + base64.b64encode(b"gatewayhub sandbox local secret").decode()
BARE_APP = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def hook(request):
    await request.body()
    return Response(b'{"received":true}', 200, media_type="application/json")

app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
"""


def signed(index: int, now: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": f"evt_bench_{index}",
            "type": "charge.captured",
            "created": now,
            "data": {
                "object": {
                    "id": f"ch_bench_{index}",
                    "status": "captured",
                    "amount": 1050,
                    "currency": "EUR",
                    "amount_captured": 1050,
                }
            },
        }
    ).encode()
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"msg_{index}.{now}.".encode() + body, hashlib.sha256).digest()
    headers = {
        "content-type": "application/json",
        "webhook-id": f"msg_{index}",
        "webhook-timestamp": str(now),
        "webhook-signature": f"v1,{base64.b64encode(mac).decode()}",
    }
    return body, headers


async def drive(url: str, events: list[tuple[bytes, dict[str, str]]], concurrency: int) -> float:
    """Events per second, `concurrency` in flight."""
    queue = iter(events)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            for body, headers in queue:
                r = await client.post(url, content=body, headers=headers)
                assert r.status_code == 200, r.text

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(events) / (time.perf_counter() - start)


def measure(count: int, concurrency: int) -> dict[str, float]:
    bare_port, gw_port = free_port(), free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE_APP.replace("PORT", str(bare_port))])
    with tempfile.TemporaryDirectory() as folder:
        gateway = subprocess.Popen(
            [
                GATEWAYHUB,
                "serve",
                "--port",
                str(gw_port),
                "--database-url",
                f"sqlite:///{folder}/gateway.db",
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_http(f"http://127.0.0.1:{gw_port}/healthz")
            wait_http(f"http://127.0.0.1:{bare_port}/")
            now = int(time.time())
            warm = [signed(-i - 1, now) for i in range(200)]
            events = [signed(i, now) for i in range(count)]
            hook = f"http://127.0.0.1:{gw_port}/v1/webhooks/sandbox/sandbox_eu"
            asyncio.run(drive(hook, warm, concurrency))
            asyncio.run(drive(f"http://127.0.0.1:{bare_port}/hook", warm, concurrency))
            return {
                "bare": asyncio.run(
                    drive(f"http://127.0.0.1:{bare_port}/hook", events, concurrency)
                ),
                "gatewayhub": asyncio.run(drive(hook, events, concurrency)),
            }
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
            bare.terminate()
            bare.wait(timeout=30)


def report(count: int = 3000, concurrency: int = 32) -> str:
    """The docs/benchmarks.md section, measured now."""
    rates = measure(count, concurrency)
    share = rates["gatewayhub"] / rates["bare"]
    return (
        "\n".join(
            [
                HEADING,
                "",
                f"Command: `python benchmarks/webhook_ingest.py --events {count} --concurrency {concurrency}`",
                "",
                f"{count} signed sandbox events per arm, {concurrency} in flight, one server process"
                " per arm (uvicorn + Starlette), the client in a third; SQLite file for gatewayhub.",
                f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
                " (shared with other jobs while measured: treat the figures as indicative).",
                "",
                "| arm | events/s |",
                "|---|---:|",
                f"| bare endpoint (read body, 200) | {rates['bare']:.0f} |",
                f"| gatewayhub (verify + dedup + persist + ack) | {rates['gatewayhub']:.0f} |",
                "",
                f"gatewayhub ingests at **{share:.0%} of the bare endpoint** (target: at least 40%).",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(report(args.events, args.concurrency))
