#!/usr/bin/env python3
"""Issue #6's side-by-side table: RabbitMQ 3.10 (Debian) and aop-server, the same scenarios, the same client
(aop-perf), one run.

Starts one private RabbitMQ node and one aop-server on free loopback ports (Tests/Integration/servers.py),
runs each scenario against both, interleaved (rabbitmq, aop, rabbitmq, aop, ...), and prints a table of
medians with the aop/RabbitMQ ratio next to the issue's target. Both brokers are stopped on exit, also on
SIGINT/SIGTERM. Besides the client's own figures it records each broker's CPU time and RSS (/proc) around
every run.

Scenarios (letters as in issue #6):
  a  1 producer -> 1 queue -> 1 consumer, 16 B transient, autoack               consumed/s, target >= 10x
  b  1 KiB persistent, durable queue, confirms window 256, manual ack prefetch 256  consumed/s, >= 5x
  c  latency at 1,000 msg/s, 1 KiB transient, autoack                            p99 < 1 ms (absolute)
  cp latency at 1,000 msg/s, 1 KiB persistent, confirms 256, manual ack          (informational)
  d  fanout exchange -> 10 queues, 10 consumers, 256 B transient, autoack         consumed/s, >= 10x
  e  100 connections, each publishing to and consuming from its own queue, 16 B  consumed/s, >= 10x
  f  1,000,000 x 1 KiB persistent backlog: broker RSS after publishing, drain time  RSS < 64 MiB
  g  5,000 idle connections (one channel each): broker RSS per connection          < 8 KiB

Usage: perf.py --client PATH --aop-bin PATH [--scenarios a,b,c,cp,d,e,g,f] [--runs 3] [--duration 10]
               [--warmup 2] [--backlog 1000000] [--idle 5000] [--brokers rabbitmq,aop] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "Integration"))
import servers  # noqa: E402  (the integration tests' broker launcher)
from amqp_raw import RawConnection  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")

# metric: key into the client's JSON; better: "higher" | "lower"; target: (kind, value) where kind is
# "ratio" (aop/rabbit for higher-is-better) or "max" (absolute ceiling for aop).
THROUGHPUT = {
    "a": {"label": "(a) 1->1->1, 16 B transient, autoack",
          "args": ["--producers", "1", "--consumers", "1", "--queues", "1", "--size", "16", "--autoack"],
          "target": ("ratio", 10.0)},
    "b": {"label": "(b) 1 KiB persistent, confirm 256, ack prefetch 256",
          "args": ["--producers", "1", "--consumers", "1", "--queues", "1", "--size", "1024", "--persistent",
                   "--durable", "--confirm", "256", "--prefetch", "256", "--multi-ack", "64"],
          "target": ("ratio", 5.0)},
    "d": {"label": "(d) fanout to 10 queues, 10 consumers, 256 B",
          "args": ["--producers", "1", "--consumers", "10", "--queues", "10", "--size", "256", "--autoack",
                   "--exchange-type", "fanout", "--exchange", "aop-perf.fanout"],
          "target": ("ratio", 10.0)},
    "e": {"label": "(e) 100 connections, own queue each, 16 B",
          "args": ["--producers", "100", "--consumers", "100", "--queues", "100", "--size", "16", "--autoack",
                   "--shared-connection"],
          "target": ("ratio", 10.0)},
}
LATENCY = {
    "c": {"label": "(c) latency at 1,000 msg/s, 1 KiB transient",
          "args": ["--producers", "1", "--consumers", "1", "--queues", "1", "--size", "1024", "--autoack",
                   "--rate", "1000"],
          "target": ("max", 1000.0)},
    "cp": {"label": "(c') latency at 1,000 msg/s, 1 KiB persistent+confirms",
           "args": ["--producers", "1", "--consumers", "1", "--queues", "1", "--size", "1024", "--persistent",
                    "--durable", "--confirm", "256", "--prefetch", "256", "--multi-ack", "1", "--rate", "1000"],
           "target": None},
}
ALL = ["a", "b", "c", "cp", "d", "e", "g", "f"]  # f and g restart both brokers first (see main)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def broker_pid(b: servers.BrokerProcess) -> int | None:
    """The process that holds the broker's memory: aop-server itself, or RabbitMQ's Erlang VM (beam.smp)."""
    if b.kind == "rabbitmq":
        try:
            return int((b.data_dir / "pid").read_text().strip())
        except (OSError, ValueError):
            return None
    return b.proc.pid if b.proc else None


def rss_kib(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_s(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


class Runner:
    def __init__(self, client: str, duration: float, warmup: float):
        self.client = client
        self.duration = duration
        self.warmup = warmup

    def uri(self, b: servers.BrokerProcess) -> str:
        return f"amqp://guest:guest@{b.host}:{b.port}/%2F"

    def run(self, b: servers.BrokerProcess, args: list[str], prefix: str, limit: float) -> dict:
        """One aop-perf run; returns its JSON summary plus the broker's CPU seconds and RSS around it."""
        cmd = [self.client, "--uri", self.uri(b), "--queue-prefix", prefix, *args]
        pid = broker_pid(b)
        cpu0, t0 = cpu_s(pid), time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return {"error": f"client hung: no result within {limit:.0f} s", "cmd": cmd}
        wall = time.monotonic() - t0
        cpu1 = cpu_s(pid)
        out = p.stdout.strip()
        try:
            result = json.loads(out[out.index("{"):]) if out else {}
        except (ValueError, json.JSONDecodeError):
            result = {}
        if not result:
            result = {"error": f"client exited {p.returncode} without JSON; stderr: {p.stderr.strip()[-600:]}"}
        elif p.returncode != 0 and not result.get("error"):
            result["error"] = f"client exited {p.returncode}: {'; '.join(map(str, result.get('errors') or []))}"
        result["wall_s"] = wall
        result["cmd"] = cmd
        if cpu0 is not None and cpu1 is not None:
            result["broker_cpu_s"] = cpu1 - cpu0
        result["broker_rss_kib"] = rss_kib(pid)
        if not b.alive():
            result["error"] = (result.get("error") or "") + f" [broker exited with {b.proc.poll()}]"
        return result

    def timed(self, b, args, prefix) -> dict:
        r = self.run(b, [*args, "--duration", str(self.duration), "--warmup", str(self.warmup)], prefix,
                     limit=self.duration + self.warmup + 120)
        # A timed run ends with up to --max-backlog messages still queued; delete its queues so no scenario
        # runs next to an earlier one's leftovers (the same for both brokers).
        queues = int(args[args.index("--queues") + 1]) if "--queues" in args else 1
        r["queues_deleted"] = delete_queues(b, prefix, queues)
        return r

    def backlog(self, b, count: int, prefix: str) -> dict:
        pid = broker_pid(b)
        before = rss_kib(pid)
        fill = self.run(b, ["--producers", "4", "--consumers", "0", "--queues", "1", "--size", "1024",
                            "--persistent", "--durable", "--confirm", "256", "--count", str(count)],
                        prefix, limit=3600)
        if fill.get("error"):
            return {"error": "fill: " + fill["error"], "fill": fill}
        time.sleep(5)  # let the broker settle (RabbitMQ pages to disk in the background)
        after_fill = rss_kib(pid)
        drain = self.run(b, ["--producers", "0", "--consumers", "1", "--queues", "1", "--size", "1024",
                             "--durable", "--prefetch", "2000", "--multi-ack", "500", "--count", str(count)],
                         prefix, limit=3600)
        r = {"rss_before_kib": before, "rss_after_fill_kib": after_fill, "rss_after_drain_kib": rss_kib(pid),
             "fill_s": fill.get("duration_s"), "fill_per_s": fill.get("published_per_s"),
             "drain_s": drain.get("duration_s"), "drain_per_s": drain.get("consumed_per_s"),
             "drained": drain.get("consumed"), "fill": fill, "drain": drain}
        if drain.get("error"):
            r["error"] = "drain: " + drain["error"]
        elif drain.get("consumed") != count:
            r["error"] = f"drain: consumed {drain.get('consumed')} of {count}"
        return r

    def idle(self, b, n: int, prefix: str) -> dict:
        pid = broker_pid(b)
        time.sleep(2)
        before = rss_kib(pid)
        hold = 20.0
        cmd = [self.client, "--uri", self.uri(b), "--queue-prefix", prefix, "--producers", "0", "--consumers", "0",
               "--idle-connections", str(n), "--duration", str(hold)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        opened_at = None
        deadline = time.monotonic() + 300
        assert p.stderr is not None
        for line in p.stderr:
            if "idle connections open" in line:
                opened_at = time.monotonic()
                break
            if time.monotonic() > deadline:
                break
        if opened_at is None:
            p.kill()
            out, err = p.communicate()
            return {"error": f"idle connections never all open; stderr tail: {err[-600:]}"}
        time.sleep(5)  # let allocations settle
        during = rss_kib(pid)
        out, _ = p.communicate(timeout=hold + 120)
        try:
            summary = json.loads(out[out.index("{"):])
        except (ValueError, json.JSONDecodeError):
            summary = {}
        time.sleep(3)
        after = rss_kib(pid)
        r = {"connections": n, "rss_before_kib": before, "rss_open_kib": during, "rss_after_close_kib": after,
             "per_connection_kib": (during - before) / n if during is not None and before is not None else None,
             "client": summary}
        if p.returncode != 0:
            r["error"] = f"client exited {p.returncode}"
        return r


def delete_queues(b: servers.BrokerProcess, prefix: str, count: int) -> int:
    """Deletes aop-perf's queues <prefix>-q0 … -q{count-1}; returns how many messages they still held."""
    left = 0
    try:
        c = RawConnection(b.host, b.port, timeout=60)
        c.handshake()
        c.open_channel(1)
        for i in range(count):
            ok = c.call(1, "queue.delete", "queue.delete-ok", queue=f"{prefix}-q{i}")
            left += ok.args.get("message_count", 0)
        c.close()
    except Exception as e:  # a failed clean-up must not hide the run's figures
        print(f"# deleting {prefix}-q* on {b.kind} failed: {e}", flush=True)
    return left


def median(rs: list[dict], key, sub=None):
    vals = []
    for r in rs:
        if r.get("error"):
            continue
        v = r.get(key)
        if sub is not None and isinstance(v, dict):
            v = v.get(sub)
        if isinstance(v, (int, float)):
            vals.append(float(v))
    return statistics.median(vals) if vals else None


def fmt(x, unit="") -> str:
    if x is None:
        return "-"
    if unit == "KiB":
        return f"{x:,.1f} KiB"
    if unit == "MiB":
        return f"{x / 1024:,.1f} MiB"
    if unit == "us":
        return f"{x:,.0f} µs"
    if unit == "s":
        return f"{x:,.1f} s"
    return f"{x:,.0f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--aop-bin", required=True)
    ap.add_argument("--scenarios", default=",".join(ALL))
    ap.add_argument("--brokers", default="rabbitmq,aop")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--latency-duration", type=float, default=30.0)
    ap.add_argument("--backlog", type=int, default=1_000_000)
    ap.add_argument("--idle", type=int, default=5000)
    ap.add_argument("--json-out")
    args = ap.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    for s in scenarios:
        if s not in ALL:
            ap.error(f"unknown scenario {s!r} (known: {','.join(ALL)})")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # 5,000 connections need 5,000+ descriptors on both sides; children inherit the raised limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    brokers: dict[str, servers.BrokerProcess] = {}
    for name in args.brokers.split(","):
        if name == "aop":
            b = servers.AopServer()
            b.binary = args.aop_bin
        else:
            b = servers.RabbitServer()
        brokers[name] = b
    runner = Runner(args.client, args.duration, args.warmup)
    results: dict[str, dict[str, list[dict]]] = {s: {n: [] for n in brokers} for s in scenarios}
    load_before = uptime()
    stamp = time.strftime("%H%M%S")
    try:
        for b in brokers.values():
            b.start()
            print(f"# {b.kind} on {b.host}:{b.port} (pid {broker_pid(b)}, log {b.log_path})", flush=True)
        print(f"# load before: {load_before}", flush=True)
        for s in scenarios:
            runs = args.runs if s in THROUGHPUT else 1
            if s in ("f", "g") and s != scenarios[0]:
                # Memory scenarios start from a freshly started broker: a heap grown by earlier scenarios
                # would hide (g)'s per-connection cost and inflate (f)'s baseline.
                for name, b in brokers.items():
                    b.restart()
                    print(f"# {name} restarted for ({s}): pid {broker_pid(b)}", flush=True)
            for i in range(runs):
                for name, b in brokers.items():
                    prefix = f"perf-{stamp}-{s}-{i}"
                    if not b.alive():
                        r = {"error": f"broker not running (exit {b.proc.poll() if b.proc else None})"}
                    elif s in THROUGHPUT:
                        r = runner.timed(b, THROUGHPUT[s]["args"], prefix)
                    elif s in LATENCY:
                        saved = runner.duration
                        runner.duration = args.latency_duration
                        r = runner.timed(b, LATENCY[s]["args"], prefix)
                        runner.duration = saved
                    elif s == "f":
                        r = runner.backlog(b, args.backlog, prefix)
                    else:
                        r = runner.idle(b, args.idle, prefix)
                    results[s][name].append(r)
                    brief = {k: r.get(k) for k in ("published_per_s", "consumed_per_s", "latency_us",
                                                    "broker_cpu_s", "per_connection_kib", "rss_after_fill_kib",
                                                    "drain_s") if r.get(k) is not None}
                    print(f"# {s} run {i + 1} {name:8}: {json.dumps(brief)}"
                          + (f" ERROR {r['error']}" if r.get("error") else ""), flush=True)
                    if r.get("error"):
                        print(f"# --- {name} log tail ---\n{b.log_tail(30)}\n# ---", flush=True)
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
    print(f"throughput: {args.runs} runs per broker, {args.duration:.0f} s after {args.warmup:.0f} s warm-up, "
          f"medians; latency: {args.latency_duration:.0f} s; client: {args.client}")
    rows: list[tuple[str, str, str, str, str, str]] = []

    def both(s, key, sub=None):
        return {n: median(results[s][n], key, sub) for n in brokers}

    for s in scenarios:
        if s in THROUGHPUT:
            v = both(s, "consumed_per_s")
            ratio = v["aop"] / v["rabbitmq"] if v.get("aop") and v.get("rabbitmq") else None
            target = THROUGHPUT[s]["target"][1]
            rows.append((THROUGHPUT[s]["label"] + " msg/s", fmt(v.get("rabbitmq")), fmt(v.get("aop")),
                         f"{ratio:.2f}x" if ratio else "n/a", f">= {target:g}x",
                         "yes" if ratio and ratio >= target else "NO"))
            cpu = {n: (median(results[s][n], "broker_cpu_s"), median(results[s][n], "consumed"))
                   for n in brokers}
            per = {n: (c * 1e6 / m if c and m else None) for n, (c, m) in cpu.items()}
            rows.append(("    broker CPU µs per consumed message", fmt(per.get("rabbitmq")) if per.get("rabbitmq")
                         is None else f"{per['rabbitmq']:.2f}", "-" if per.get("aop") is None else
                         f"{per['aop']:.2f}", "", "", ""))
        elif s in LATENCY:
            for q in ("p50", "p99", "max"):
                v = both(s, "latency_us", q)
                target = LATENCY[s]["target"]
                met = ""
                if q == "p99" and target and v.get("aop") is not None:
                    met = "yes" if v["aop"] < target[1] else "NO"
                ratio = v["rabbitmq"] / v["aop"] if v.get("aop") and v.get("rabbitmq") else None
                rows.append((f"{LATENCY[s]['label']} {q}", fmt(v.get("rabbitmq"), "us"), fmt(v.get("aop"), "us"),
                             f"{ratio:.2f}x lower" if ratio else "n/a",
                             "< 1,000 µs" if q == "p99" and target else "", met))
        elif s == "f":
            v = both(s, "rss_after_fill_kib")
            d = both(s, "drain_s")
            rows.append((f"(f) {args.backlog:,} x 1 KiB backlog: broker RSS", fmt(v.get("rabbitmq"), "MiB"),
                         fmt(v.get("aop"), "MiB"),
                         f"{v['rabbitmq'] / v['aop']:.1f}x less" if v.get("aop") and v.get("rabbitmq") else "n/a",
                         "< 64 MiB", "yes" if v.get("aop") and v["aop"] < 64 * 1024 else "NO"))
            rows.append(("(f)   drain time", fmt(d.get("rabbitmq"), "s"), fmt(d.get("aop"), "s"),
                         f"{d['rabbitmq'] / d['aop']:.2f}x faster" if d.get("aop") and d.get("rabbitmq") else "n/a",
                         "", ""))
        elif s == "g":
            v = both(s, "per_connection_kib")
            rows.append((f"(g) {args.idle:,} idle connections: RSS per connection", fmt(v.get("rabbitmq"), "KiB"),
                         fmt(v.get("aop"), "KiB"),
                         f"{v['rabbitmq'] / v['aop']:.1f}x less" if v.get("aop") and v.get("rabbitmq") else "n/a",
                         "< 8 KiB", "yes" if v.get("aop") is not None and v["aop"] < 8 else "NO"))
    head = ("scenario", "rabbitmq", "aop", "aop vs rabbitmq", "target", "met")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"load_before": load_before, "load_after": load_after,
                                                   "results": results}, indent=2, default=str))
    failed = any(r.get("error") for s in results.values() for rs in s.values() for r in rs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
