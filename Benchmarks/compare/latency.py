#!/usr/bin/env python3
"""Latency at a fixed rate (issue #6 scenario (c)): RabbitMQ 3.10 and aop side by side, same client.

Starts a private RabbitMQ node and an aop-server on free loopback ports (Tests/Integration/servers.py),
runs `amqp-latency` (Benchmarks/compare/amqp-latency.c) --runs times per mode interleaved (rabbitmq, aop,
...), and prints the median of each percentile over the runs.

Usage: latency.py --client PATH --aop-bin PATH [--rate 1000] [--size 1024] [--duration 10] [--warmup 2]
                  [--runs 3] [--modes transient,persistent] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "Integration"))
import servers  # noqa: E402

KEYS = ("p50_us", "p95_us", "p99_us", "p999_us", "max_us")


def run(client: str, broker: servers.BrokerProcess, mode: str, args) -> dict:
    cmd = [client, "--host", broker.host, "--port", str(broker.port), "--mode", mode, "--rate", str(args.rate),
           "--size", str(args.size), "--duration", str(args.duration), "--warmup", str(args.warmup)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + args.warmup + 60)
        return json.loads(p.stdout.strip().splitlines()[-1])
    except Exception as e:  # a failed run is reported, not fatal
        return {"error": f"{type(e).__name__}: {e}"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--aop-bin", required=True)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--modes", default="transient,persistent")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(SystemExit(128 + s)))

    rabbit, aop = servers.RabbitServer(), servers.AopServer()
    aop.binary = args.aop_bin
    brokers = {"rabbitmq": rabbit, "aop": aop}
    modes = [m for m in args.modes.split(",") if m]
    results = {m: {b: [] for b in brokers} for m in modes}
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    try:
        for b in brokers.values():
            b.start()
        for m in modes:
            for i in range(args.runs):
                for name, b in brokers.items():
                    r = run(args.client, b, m, args)
                    results[m][name].append(r)
                    d = r.get("delivery") or {}
                    print(f"# {m} run {i + 1} {name:8}: delivery p50 {d.get('p50_us')} p99 {d.get('p99_us')} "
                          f"max {d.get('max_us')} us {'ERROR ' + r['error'] if r.get('error') else ''}", flush=True)
    finally:
        for b in brokers.values():
            try:
                b.stop()
            except Exception:
                b.kill()
            b.cleanup()
    print(f"\nload before: {load}\nload after:  "
          + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"{args.rate} msg/s, {args.size} B, {args.duration:.0f} s after {args.warmup:.0f} s warm-up, "
          f"median of {args.runs} runs (microseconds)")
    print("| mode | broker | what | p50 | p95 | p99 | p99.9 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for m in modes:
        for name in brokers:
            for what in ("delivery", "confirm"):
                rows = [r[what] for r in results[m][name] if not r.get("error") and r.get(what)]
                if not rows:
                    continue
                cells = [f"{statistics.median(r[k] for r in rows):,.0f}" for k in KEYS]
                print(f"| {m} | {name} | {what} | " + " | ".join(cells) + " |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"load": load, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
