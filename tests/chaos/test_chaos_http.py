"""The chaos run's HTTP arm at CI size: the same payment scripts over a real `gatewayhub serve`
process, which is killed twice with SIGKILL and started again on the same database and port
while the merchant sends its calls again with the same Idempotency-Key; then every money
invariant checked against the sandboxes' own records (docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

from gatewayhub.testing.invariants import ONCE, ORDER
from gatewayhub_sandbox.chaos_run import ChaosSettings, run_chaos


async def test_payments_over_http_under_faults_and_server_kills_keep_every_invariant(
    sqlite_url: str, tmp_path: Path
) -> None:
    result = await run_chaos(
        ChaosSettings(
            database_url=sqlite_url,
            workdir=tmp_path,
            payments=120,
            kills=2,
            kill_after_done=(20, 40),
            seed=5,
            via="http",
        )
    )
    assert (result.kills, result.restarts) == (2, 2)
    # Killed with calls in flight and refusing connections until restarted: the merchant
    # sent calls again, and some found their key still held by a dead request.
    assert result.http.retries["connection failed or dropped"] > 0
    assert result.invariants.checked[ONCE] == 120, "every payment was checked"
    assert all(result.invariants.checked[name] > 0 for name in ORDER)
    injected = {kind for kind, n in result.faults.items() if n}
    assert {"error_before", "reset_after", "timeout_after", "webhook_lost", "outage"} <= injected
    # 503 is a fair answer while a provider is out (nothing was done); 500 never is.
    assert all(k.startswith("503 ") for k in result.http.server_errors), result.markdown()
    # The merchant asks only what the payment allows and repeats each call until it has an
    # answer, so these outcomes are wrong answers to a repeated request: a final capture
    # answered before it was made, a refund answered 404, a capture refused because the
    # dead request's own attempt was open (regressions: tests/test_resumed_operations.py).
    wrong = {"partially_captured", "error:not_found", "error:invalid_state"}
    assert not wrong & set(result.outcomes), result.outcomes
    assert result.invariants.held, result.markdown()
