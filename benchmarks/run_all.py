"""Run every benchmark in benchmarks/ and rewrite docs/benchmarks.md from their sections.

A benchmark is a module here with `def report() -> str` returning its markdown section
(heading `## <Name>`); one that also takes `quick` gets `quick=True` under `--quick`. Each
runs in its own process, one after the other (they measure CPU: running two at once would
measure each other). Sections of benchmarks not run this time (`--only`, or one that
failed) are kept as they were in docs/benchmarks.md, in the page's order; a new section goes
at the end.

    python benchmarks/run_all.py                       # everything, as documented
    python benchmarks/run_all.py --only stripe_charge --only webhook_verify
    python benchmarks/run_all.py --quick --no-write    # smoke run: small counts, print only
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every section below is written by the benchmark it names (`benchmarks/<name>.py`, which
also runs alone and prints its section). To measure again and rewrite this page:

```
pip install -e '.[test,bench]' $(for p in providers/*/; do printf -- '-e %s ' "$p"; done)
python benchmarks/run_all.py [--only NAME]... [--quick] [--no-write]
```

The `bench` extra brings the official SDKs the side-by-side sections compare against
(stripe, razorpay, Adyen, standardwebhooks) and py-spy for the Stripe charge profile.

The machine: {machine}, {cores} cores, Python {python}, shared with other jobs while these
figures were taken (each section gives its load average). Figures of CPU time and of
instructions (callgrind) are the ones to trust; wall-clock figures (throughput) move with
the other jobs.
"""


def benchmarks() -> list[str]:
    """Modules here that define a top-level `report` (found without importing them)."""
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text())
        if any(isinstance(n, ast.FunctionDef) and n.name == "report" for n in tree.body):
            found.append(path.stem)
    return found


_CHILD = """
import inspect, sys
sys.path.insert(0, {here!r})
import {name} as bench
quick = {quick!r}
takes_quick = "quick" in inspect.signature(bench.report).parameters
text = bench.report(quick=True) if quick and takes_quick else bench.report()
sys.stdout.write("\\x00SECTION\\x00" + text)
"""


def run(name: str, quick: bool) -> str:
    """One benchmark's section, from a fresh process (its own imports, its own CPU clock)."""
    child = _CHILD.format(here=str(HERE), name=name, quick=quick)
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, check=False, cwd=HERE.parent
    )
    if done.returncode != 0 or "\x00SECTION\x00" not in done.stdout:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    text = done.stdout.split("\x00SECTION\x00", 1)[1].strip("\n")
    if not text.startswith("## "):
        raise RuntimeError(f"{name}: a section starts with '## <Name>', got {text[:60]!r}")
    return text


def sections(text: str) -> dict[str, str]:
    """The `## ` sections of a page by heading line."""
    found: dict[str, str] = {}
    parts = ("\n" + text).split("\n## ")[1:]
    for part in parts:
        body = "## " + part.strip("\n")
        found[body.splitlines()[0]] = body
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = benchmarks()
    parser.add_argument("--only", action="append", choices=names, help="run only this one")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--no-write", action="store_true", help="print, leave the page alone")
    args = parser.parse_args()
    chosen = args.only or names

    fresh: dict[str, str] = {}
    failed: list[str] = []
    for name in names:
        if name not in chosen:
            continue
        start = time.monotonic()
        print(f"running {name}{' (quick)' if args.quick else ''} ...", file=sys.stderr, flush=True)
        try:
            fresh[name] = run(name, args.quick)
        except RuntimeError as exc:
            failed.append(name)
            print(exc, file=sys.stderr)
            continue
        print(f"  {name}: {time.monotonic() - start:.0f} s", file=sys.stderr)
        print(fresh[name] + "\n")

    if not args.no_write and fresh:
        kept = sections(DOC.read_text()) if DOC.exists() else {}
        # The page's order is kept: a section run now replaces its old text in place, a new
        # one goes at the end, one not run now keeps its last figures.
        page = dict(kept)
        for text in fresh.values():
            page[text.splitlines()[0]] = text
        ordered = list(page.values())
        header = HEADER.format(
            machine=platform.machine(), cores=os.cpu_count(), python=platform.python_version()
        )
        DOC.write_text(header + "\n" + "\n\n".join(ordered) + "\n")
        print(f"wrote {DOC.relative_to(HERE.parent)}", file=sys.stderr)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
