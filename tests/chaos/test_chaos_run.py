"""The chaos run at CI size: payments through the SDK against faulty sandbox servers in
separate processes, the gateway process killed twice with SIGKILL, then every money
invariant checked against the sandboxes' own records (the full run: docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

from gatewayhub.testing.invariants import ONCE, ORDER
from gatewayhub_sandbox.chaos_run import ChaosSettings, run_chaos


async def test_payments_under_faults_and_crashes_keep_every_invariant(
    sqlite_url: str, tmp_path: Path
) -> None:
    result = await run_chaos(
        ChaosSettings(
            database_url=sqlite_url,
            workdir=tmp_path,
            payments=150,
            kills=2,
            kill_after_done=(20, 50),
            seed=3,
        )
    )
    assert result.kills == 2
    assert result.restarts >= 2
    assert result.invariants.checked[ONCE] == 150, "every payment was checked"
    assert all(result.invariants.checked[name] > 0 for name in ORDER)
    injected = {kind for kind, n in result.faults.items() if n}
    assert {"error_before", "reset_after", "timeout_after", "webhook_lost", "outage"} <= injected
    assert result.faults_injected >= 100
    assert result.invariants.held, result.markdown()
