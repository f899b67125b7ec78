"""`gatewayhub simulate` from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gatewayhub.cli import app, main

runner = CliRunner()


def test_sample_run_writes_everything(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", "--sample", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "only global_psp" in result.output
    assert "least cost, cascading" in result.output
    for name in ("report.html", "result.json", "csv/summary.csv", "charts/overview.png"):
        assert (out / name).is_file(), name
    data = json.loads((out / "result.json").read_text())
    assert data["payments"] == 4000


def test_generate_with_seed_and_saved_history(tmp_path: Path) -> None:
    saved = tmp_path / "generated.csv"
    args = ["simulate", "--generate", "500", "--seed", "5", "--quiet"]
    first = runner.invoke(app, [*args, "--json", str(tmp_path / "a.json"),
                                "--save-history", str(saved)])  # fmt: skip
    again = runner.invoke(app, [*args, "--json", str(tmp_path / "b.json")])
    assert first.exit_code == again.exit_code == 0, first.output
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    replay = runner.invoke(
        app, ["simulate", "-i", str(saved), "--seed", "5", "--quiet", "--json",
              str(tmp_path / "c.json")]
    )  # fmt: skip
    assert replay.exit_code == 0, replay.output
    a = json.loads((tmp_path / "a.json").read_text())
    c = json.loads((tmp_path / "c.json").read_text())
    assert a["strategies"] == c["strategies"]  # the saved history replays identically


def _bad_history(tmp_path: Path) -> Path:
    path = tmp_path / "h.csv"
    path.write_text(
        "timestamp,amount,currency\n"
        "2026-03-02T10:00:00Z,10.00,EUR\n"
        "2026-03-02T10:00:01Z,10.001,EUR\n"
        "2026-03-02T10:00:02Z,12.00,EUR\n",
        encoding="utf-8",
    )
    return path


def test_bad_row_exits_2_naming_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _bad_history(tmp_path)
    # main() is the console script: it reads sys.argv and turns errors into exit status 2.
    monkeypatch.setattr(sys, "argv", ["gatewayhub", "simulate", "-i", str(path), "--quiet"])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 2
    output = capsys.readouterr().out
    assert "line 3, field amount" in output
    assert "more decimals than EUR" in output


def test_bad_row_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "-i", str(_bad_history(tmp_path)), "--quiet"])
    assert result.exit_code != 0
    assert "line 3, field amount" in str(result.exception)


def test_skip_bad_rows(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "-i", str(_bad_history(tmp_path)), "--on-error", "skip"]
    )
    assert result.exit_code == 0, result.output
    assert "1 bad rows skipped" in result.output
    assert "line 3, field amount" in result.output
    assert "2 payments" in result.output


def test_needs_exactly_one_source() -> None:
    result = runner.invoke(app, ["simulate", "--quiet"])
    assert "exactly one of --input FILE, --generate N or --sample" in str(result.exception)
