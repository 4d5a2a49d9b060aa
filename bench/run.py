"""`make bench`: run every bench/bench_*.py (each has run() -> list[Result]), write
bench/results/latest.json and print a table."""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Result  # noqa: E402


def main(argv: list[str]) -> int:
    only = set(argv)
    results: list[Result] = []
    failed = []
    took: dict[str, float] = {}
    run_started = time.perf_counter()
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        print(f"== {path.stem}", flush=True)
        started = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            results.extend(module.run())
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(path.stem)
        took[path.stem] = time.perf_counter() - started
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    rows = [r.as_dict() for r in results]
    if only and out.exists():  # a partial run replaces its own rows and keeps the others'
        fresh = {r["name"] for r in rows}
        rows = [r for r in json.loads(out.read_text()) if r["name"] not in fresh] + rows
    out.write_text(json.dumps(rows, indent=2) + "\n")
    meta = f"{datetime.now(UTC):%Y-%m-%d %H:%M}Z, {platform.machine()}, python {platform.python_version()}"
    print(f"\nbench results ({meta}) -> {out.relative_to(HERE.parent)}")
    header = f"{'name':<46} {'value':>14} {'unit':<12} {'peer':<22} {'peer_value':>12} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        pv = "" if r.peer_value is None else f"{r.peer_value:,.1f}"
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        print(f"{r.name:<46} {r.value:>14,.1f} {r.unit:<12} {r.peer or '':<22} {pv:>12} {ratio:>8}")
        if r.notes:
            print(f"{'':<4}{r.notes}")
    spent = ", ".join(f"{name.removeprefix('bench_')} {s:.0f}" for name, s in took.items())
    print(f"\nwall seconds: {time.perf_counter() - run_started:.0f} in all ({spent})")
    if failed:
        print(f"\nfailed benchmarks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
