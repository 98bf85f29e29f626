#!/usr/bin/env python3
"""Side-by-side throughput comparison of RabbitMQ 3.10 and aop with the same client (amqp-load).

Starts one private RabbitMQ node and one aop-server on free loopback ports (reusing
Tests/Integration/servers.py), runs every scenario --runs times interleaved (rabbitmq, aop, rabbitmq,
aop, ...), prints a table of medians with the aop/RabbitMQ ratio, and stops both brokers on exit (also
on SIGINT/SIGTERM). A broker failure (client error, client hang, server exit) is reported with the
server's log tail instead of aborting the whole comparison.

Usage: compare.py --client PATH --aop-bin PATH [--duration 10] [--warmup 2] [--runs 3]
                  [--scenarios transient,persistent] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "Integration"))
import servers  # noqa: E402  (the integration tests' broker launcher)

SCENARIOS = {
    "transient": {"label": "16 B transient, autoack", "args": ["--mode", "transient"]},
    "persistent": {"label": "1 KiB persistent, confirms 256, ack/64 prefetch 256",
                   "args": ["--mode", "persistent"]},
    "fanout": {"label": "256 B transient, fanout to 10 queues, 10 consumers",
               "args": ["--mode", "transient", "--size", "256", "--fanout", "10"]},
    "pairs": {"label": "16 B transient, 100 producer/consumer pairs",
              "args": ["--mode", "transient", "--pairs", "100", "--cap", "10000"]},
}


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in the process group (a broker and its children, e.g. beam)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:  # field 5 (pgrp); fields[0] is field 3 (state)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run_client(client: str, broker: servers.BrokerProcess, scenario: str, duration: float, warmup: float,
               drain: float) -> dict:
    cmd = [client, "--host", broker.host, "--port", str(broker.port), "--duration", str(duration),
           "--warmup", str(warmup), "--drain-timeout", str(drain), *SCENARIOS[scenario]["args"]]
    limit = warmup + duration + drain + 60
    started = time.monotonic()
    cpu_before = group_cpu_seconds(broker.proc.pid) if broker.proc else 0.0
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"client hung: no result within {limit:.0f} s", "wall_s": time.monotonic() - started}
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    try:
        result = json.loads(line)
    except json.JSONDecodeError:
        result = {"error": f"client exited {p.returncode} without JSON; stderr: {p.stderr.strip()[-500:]}"}
    result["wall_s"] = time.monotonic() - started
    # Broker CPU per delivered message over the whole run (warm-up and drain included): steadier than
    # rates on a loaded machine.
    cpu = (group_cpu_seconds(broker.proc.pid) if broker.proc else 0.0) - cpu_before
    result["broker_cpu_s"] = cpu
    if result.get("consumed"):
        result["broker_cpu_us_per_msg"] = cpu * 1e6 / result["consumed"]
    if not broker.alive():
        result["error"] = (result.get("error") or "") + f" [broker process exited with {broker.proc.poll()}]"
    return result


def fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def median_of(results: list[dict], key: str) -> float | None:
    vals = [r[key] for r in results if not r.get("error") and key in r]
    return statistics.median(vals) if vals else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--aop-bin", required=True)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--drain-timeout", type=float, default=15.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenarios", default="transient,persistent")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    for s in scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    rabbit = servers.RabbitServer()
    aop = servers.AopServer()
    aop.binary = args.aop_bin
    brokers = {"rabbitmq": rabbit, "aop": aop}
    results: dict[str, dict[str, list[dict]]] = {s: {"rabbitmq": [], "aop": []} for s in scenarios}
    load_before = uptime()
    try:
        for b in brokers.values():
            b.start()
            print(f"# {b.kind} listening on {b.host}:{b.port} (data {b.data_dir}, log {b.log_path})", flush=True)
        print(f"# load before: {load_before}", flush=True)
        for s in scenarios:
            for i in range(args.runs):
                for name, b in brokers.items():
                    if not b.alive():
                        r = {"error": f"broker not running (exit {b.proc.poll() if b.proc else None})"}
                    else:
                        r = run_client(args.client, b, s, args.duration, args.warmup, args.drain_timeout)
                    results[s][name].append(r)
                    status = f"ERROR {r['error']}" if r.get("error") else "ok"
                    print(f"# {s} run {i + 1} {name:8}: pub/s {fmt_rate(r.get('published_per_s'))} "
                          f"cons/s {fmt_rate(r.get('consumed_per_s'))} lost {r.get('lost', '-')} "
                          f"ooo {r.get('out_of_order', '-')} drain {r.get('drain_s', 0):.2f}s "
                          f"broker cpu/msg {r.get('broker_cpu_us_per_msg', 0):.2f} us {status}",
                          flush=True)
                    if r.get("error"):
                        print(f"# --- {name} server log tail ---\n{b.log_tail(40)}\n# ---", flush=True)
        load_after = uptime()
    finally:
        for b in brokers.values():
            try:
                b.stop()
            except Exception as e:  # report, keep stopping the other one
                print(f"# stopping {b.kind} failed: {e}", flush=True)
                b.kill()
            b.cleanup()

    print()
    print(f"load before: {load_before}")
    print(f"load after:  {load_after}")
    print(f"{args.runs} runs per broker, {args.duration:.0f} s measured after {args.warmup:.0f} s warm-up, "
          "medians of successful runs")
    hdr = (f"| {'scenario':52} | {'broker':8} | {'published/s':>11} | {'consumed/s':>11} | {'lost (max)':>10} "
           f"| {'failed':>6} | {'aop/rabbit (consumed)':>21} | {'broker µs CPU/msg':>17} |")
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    for s in scenarios:
        rc = median_of(results[s]["rabbitmq"], "consumed_per_s")
        for name in ("rabbitmq", "aop"):
            rs = results[s][name]
            pub, cons = median_of(rs, "published_per_s"), median_of(rs, "consumed_per_s")
            lost = max((r.get("lost", 0) for r in rs if "lost" in r), default=None)
            failed = sum(1 for r in rs if r.get("error"))
            ratio = ""
            if name == "aop":
                ratio = f"{cons / rc:.2f}" if cons is not None and rc else "n/a"
            cpu = median_of(rs, "broker_cpu_us_per_msg")
            print(f"| {SCENARIOS[s]['label']:52} | {name:8} | {fmt_rate(pub):>11} | {fmt_rate(cons):>11} "
                  f"| {'-' if lost is None else lost:>10} | {failed}/{len(rs):<4} | {ratio:>21} "
                  f"| {'-' if cpu is None else f'{cpu:.2f}':>17} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"load_before": load_before, "load_after": load_after,
                                                   "results": results}, indent=2))
    any_failed = any(r.get("error") for s in results.values() for rs in s.values() for r in rs)
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
