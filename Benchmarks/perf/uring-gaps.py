#!/usr/bin/env python3
"""Broker-side latency of one message from io_uring tracepoints: receive completion → next send submission.

Record while a fixed-rate run (scenario c) goes on, then feed `perf script` to this script:

    perf record -e io_uring:io_uring_submit_req -e io_uring:io_uring_complete \
        -e sched:sched_switch -e sched:sched_wakeup -p $(pidof aop-server) -o uring.data -- sleep 10
    perf script -i uring.data | Benchmarks/perf/uring-gaps.py [--worst 3]

At a fixed low rate each received publish is followed by the send of its delivery, so the time from a
receive completion (a CQE with IORING_CQE_F_BUFFER, i.e. data in a provided buffer) to the next SEND
submission is the broker's own share of the latency: decode, route, enqueue, dispatch, encode, flush.
The receive completion is posted when the ring thread runs, so waiting for a CPU before that is not
included; a switch away with prev_state=R inside a gap (printed with --worst) is a preemption.
"""

from __future__ import annotations

import argparse
import re
import sys

TIME = re.compile(r"\s(\d+\.\d+):")
RESULT = re.compile(r"result (-?\d+), cflags (0x[0-9a-f]+)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worst", type=int, default=0, help="print the events inside the N longest gaps")
    args = ap.parse_args()
    lines = sys.stdin.read().splitlines()
    gaps: list[tuple[float, int, int]] = []
    start: tuple[int, float] | None = None
    for i, line in enumerate(lines):
        m = TIME.search(line)
        if not m:
            continue
        t = float(m.group(1))
        if "io_uring_complete" in line:
            r = RESULT.search(line)
            if r and int(r.group(2), 16) & 1 and int(r.group(1)) > 0 and start is None:
                start = (i, t)
        elif "io_uring_submit_req" in line and "opcode SEND" in line and start is not None:
            gaps.append(((t - start[1]) * 1e6, start[0], i))
            start = None
    if not gaps:
        print("no receive → send pairs found", file=sys.stderr)
        return 1
    us = sorted(g[0] for g in gaps)
    n = len(us)

    def pct(p: float) -> float:
        return us[min(n - 1, int(n * p))]

    print(f"receive → send (µs): n={n} p50={pct(.5):.0f} p95={pct(.95):.0f} p99={pct(.99):.0f} "
          f"p99.9={pct(.999):.0f} max={us[-1]:.0f}")
    for gap, a, b in sorted(gaps, reverse=True)[:args.worst]:
        print(f"gap {gap:.0f} µs:")
        for line in lines[a:min(b + 1, a + 20)]:
            print("   ", line.strip()[:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
