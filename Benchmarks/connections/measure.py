#!/usr/bin/env python3
"""Broker RSS per idle AMQP connection, aop-server and RabbitMQ side by side (issue #6 (g)).

For each broker: start it (Tests/Integration/servers.py: aop-server from AOP_SERVER_BIN, or a private
RabbitMQ node on free loopback ports), let it settle, read its RSS, open N idle connections with
idle_connections.py (handshake done, channel 1 open, heartbeats off), let it settle again, read the
RSS again and print (RSS with N - RSS before) / N. RSS is VmRSS of the broker process (beam.smp for
RabbitMQ), from /proc/PID/status.

    measure.py [--connections 5000] [--brokers aop,rabbitmq] [--settle 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Integration"))
from servers import make_server  # noqa: E402


def status_kib(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def broker_pid(server) -> int:
    if server.kind == "rabbitmq":
        return int((server.data_dir / "pid").read_text().strip())  # the beam.smp VM, not the wrapper
    return server.proc.pid


def measure(kind: str, connections: int, settle: float, window: int) -> dict:
    server = make_server(kind)
    server.start()
    try:
        pid = broker_pid(server)
        time.sleep(settle)
        before = status_kib(pid, "VmRSS")
        client = subprocess.Popen(
            [sys.executable, str(HERE / "idle_connections.py"), str(server.port), str(connections),
             "--window", str(window)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline().split()
        if not line or line[0] != "ready":
            client.kill()
            raise RuntimeError(f"{kind}: the client did not get {connections} connections ready")
        handshake_seconds = float(line[2])
        time.sleep(settle)
        after = status_kib(pid, "VmRSS")
        threads = status_kib(pid, "Threads")
        client.stdin.close()
        client.wait(timeout=60)
        return {
            "kind": kind, "before_kib": before, "after_kib": after, "connections": connections,
            "per_connection_bytes": (after - before) * 1024 / connections,
            "handshake_seconds": handshake_seconds, "threads": threads,
        }
    finally:
        server.stop()
        server.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--brokers", default="aop,rabbitmq")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds to wait before each RSS reading")
    ap.add_argument("--window", type=int, default=200, help="handshakes in flight at once")
    args = ap.parse_args()
    results = []
    for kind in args.brokers.split(","):
        r = measure(kind, args.connections, args.settle, args.window)
        results.append(r)
        print(f"{kind:9s} RSS before {r['before_kib'] / 1024:8.1f} MiB, with {r['connections']} idle connections "
              f"{r['after_kib'] / 1024:8.1f} MiB -> {r['per_connection_bytes'] / 1024:6.2f} KiB per connection "
              f"(handshakes took {r['handshake_seconds']:.1f} s)", flush=True)
    by_kind = {r["kind"]: r for r in results}
    if "aop" in by_kind and "rabbitmq" in by_kind:
        aop = by_kind["aop"]["per_connection_bytes"]
        rabbit = by_kind["rabbitmq"]["per_connection_bytes"]
        ratio = rabbit / aop if aop > 0 else float("inf")
        print(f"RabbitMQ / aop per-connection RSS: {ratio:.1f}x  (aop target: < 8 KiB per connection: "
              f"{'met' if aop < 8192 else 'NOT met'})")


if __name__ == "__main__":
    main()
