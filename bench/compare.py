"""Two checkouts of Punchline side by side: runs bench/webhook and bench/counter of each
tree from its own directory with its own .venv, interleaved (before, after, before,
after, ...) so that the noise of a shared machine falls on both alike, and prints each
run and the medians with the ratio after/before, as Markdown tables.

    .venv/bin/python -m bench.compare --before ../before --after . --rounds 2

Each tree needs its .venv (`bash scripts/bootstrap.sh test`) and the same bench/webhook.py
and bench/counter.py functions (`bench_database`, `run`); what each run prints is parsed
from one line of JSON. `uptime` is printed before each run.
"""

import argparse
import json
import statistics
import subprocess
from pathlib import Path
from typing import Any

# Run inside a tree: its own bench/, its own code, its own interpreter.
WEBHOOK = """
import functools, json, sys
import aiohttp
from bench import webhook
# The load generator lets idle connections go before uvicorn's 5 s keep-alive ends: a
# request written to a connection the server is closing (between phases, on a busy
# machine) fails the whole run.
aiohttp.TCPConnector = functools.partial(aiohttp.TCPConnector, keepalive_timeout=2)
a = json.loads(sys.argv[1])
rows = webhook.bench_database(a["db"], events=a["events"], concurrency=32, rate=a["rate"])
print(json.dumps([{"case": f"webhook {r.phase}, {r.load}", "per_s": r.events_per_second,
                   "p50": r.percentile(0.50), "p99": r.percentile(0.99), "cpu": None,
                   "errors": 0} for r in rows]))
"""
COUNTER = """
import json, sys
from bench import counter
a = json.loads(sys.argv[1])
f = counter.run(a["db"], visits=a["visits"], concurrency=50, rate=a["rate"], max_seconds=120)
load = "50 counters" if a["rate"] is None else f"{a['rate']:.0f}/s offered"
print(json.dumps([{"case": f"counter, {load}", "per_s": f.per_second, "p50": f.percentile(50),
                   "p99": f.percentile(99), "cpu": f.server_cpu_ms_per_visit,
                   "errors": f.errors}]))
"""
FIGURES = ("per_s", "p50", "p99", "cpu")
# One run's figures for one case, as a tree's bench code printed them (JSON).
Run = dict[str, Any]


def run_in(tree: Path, code: str, args: dict[str, Any], attempts: int = 2) -> list[Run] | None:
    """The run's figures; None if it failed `attempts` times (tracebacks go to stderr)."""
    for _ in range(attempts):
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
              flush=True)
        done = subprocess.run([str(tree / ".venv/bin/python"), "-c", code, json.dumps(args)],
                              cwd=tree, stdout=subprocess.PIPE, text=True)
        if done.returncode == 0:
            rows: list[Run] = json.loads(done.stdout.strip().splitlines()[-1])
            return rows
    return None


def cell(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--webhook-rate", type=float, default=300)
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--counter-rate", type=float, default=250)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    cases = ((WEBHOOK, {"events": args.events, "rate": args.webhook_rate}),
             (COUNTER, {"visits": args.visits, "rate": None}),
             (COUNTER, {"visits": args.visits, "rate": args.counter_rate}))
    runs: list[Run] = []
    for db in args.databases:
        for round_ in range(1, args.rounds + 1):
            for code_name, tree in trees.items():
                for code, options in cases:
                    rows = run_in(tree, code, {"db": db, **options})
                    if rows is None:
                        print(f"FAILED: {code_name} {db} {options}", flush=True)
                        continue
                    for row in rows:
                        runs.append({"db": db, "round": round_, "code": code_name, **row})
                        print(json.dumps(runs[-1]), flush=True)

    print("\n| db | case | round | code | per s | p50 ms | p99 ms | server CPU ms | errors |")
    print("|---|---|--:|---|--:|--:|--:|--:|--:|")
    for r in runs:
        print(f"| {r['db']} | {r['case']} | {r['round']} | {r['code']} | "
              + " | ".join(cell(r[f]) for f in FIGURES) + f" | {r['errors']} |")

    print("\n| db | case | code | per s | p50 ms | p99 ms | server CPU ms |")
    print("|---|---|---|--:|--:|--:|--:|")
    for db, case in dict.fromkeys((r["db"], r["case"]) for r in runs):
        medians: dict[str, dict[str, float | None]] = {}
        for code_name in trees:
            chosen = [r for r in runs if (r["db"], r["case"], r["code"]) == (db, case, code_name)]
            if not chosen:
                break
            medians[code_name] = {f: None if chosen[0][f] is None
                                  else statistics.median(r[f] for r in chosen) for f in FIGURES}
            print(f"| {db} | {case} | {code_name} (median) | "
                  + " | ".join(cell(medians[code_name][f]) for f in FIGURES) + " |")
        if len(medians) < 2:
            continue
        ratios = [_ratio(medians["after"][f], medians["before"][f]) for f in FIGURES]
        print(f"| {db} | {case} | after/before | "
              + " | ".join("" if x is None else f"{x:.2f}" for x in ratios) + " |")


def _ratio(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after / before


if __name__ == "__main__":
    main()
