#!/usr/bin/env python3
"""Transient leftovers: scenario (a) run again and again against one aop-server without deleting queues.

Each timed aop-perf run (1 producer -> 1 queue -> 1 consumer, 16 B transient, autoack) ends with up to
--max-backlog messages still in its queue; perf.py deletes them, this script keeps them, as a user who
reruns a benchmark would. Every run's queue is a new one on the default exchange, so the leftovers of
run 1 sit in front of everything later runs publish through that exchange. Prints the broker's RSS after
each run and the messages left in its queue, then deletes the queues and prints the RSS again (glibc keeps
freed heap pages, so RSS need not fall; what matters is that it no longer grows with what went through).

Usage: leftovers.py --client PATH --aop-bin PATH [--runs 11] [--duration 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "Integration"))
import servers  # noqa: E402
import pika  # noqa: E402


def status_mib(pid: int, field: str) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def count(b: servers.BrokerProcess, queue: str) -> int:
    conn = pika.BlockingConnection(pika.ConnectionParameters(host=b.host, port=b.port))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--aop-bin", required=True)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--duration", type=int, default=5)
    args = ap.parse_args()
    b = servers.AopServer(extra_args=[])
    b.binary = args.aop_bin
    b.start()
    try:
        pid = b.proc.pid
        print(f"start: RSS {status_mib(pid, 'VmRSS'):.1f} MiB")
        for run in range(1, args.runs + 1):
            cmd = [args.client, "--uri", f"amqp://guest:guest@{b.host}:{b.port}/%2F",
                   "--queue-prefix", f"leftovers-{run}", "--size", "16", "--autoack",
                   "--duration", str(args.duration), "--warmup", "1"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 120)
            out = p.stdout.strip()
            summary = json.loads(out[out.index("{"):]) if "{" in out else {}
            print(f"run {run:2}: consumed/s {summary.get('consumed_per_s', '?'):>8}  "
                  f"published {summary.get('published', '?')}  consumed {summary.get('consumed', '?')}  "
                  f"left {count(b, f'leftovers-{run}-q0'):>7}  "
                  f"RSS {status_mib(pid, 'VmRSS'):7.1f} MiB  peak {status_mib(pid, 'VmHWM'):7.1f} MiB", flush=True)
        conn = pika.BlockingConnection(pika.ConnectionParameters(host=b.host, port=b.port))
        ch = conn.channel()
        for run in range(1, args.runs + 1):
            ch.queue_delete(f"leftovers-{run}-q0")
        conn.close()
        print(f"queues deleted: RSS {status_mib(pid, 'VmRSS'):.1f} MiB", flush=True)
    finally:
        b.stop()
        b.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
