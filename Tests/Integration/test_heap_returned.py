"""Freed heap memory goes back to the system: after a transient backlog is consumed, aop-server's RSS
falls back near where it started, although a few long-lived messages stay scattered through the heap.

A queue "keep" receives one message in every KEEP_EVERY (they stay queued, pinning the heap pages they
sit on), a queue "drain" the rest (~MESSAGES × BODY bytes); "drain" is then consumed. glibc keeps the
freed chunks around the kept ones (only free memory at the top of the heap is returned by free());
aop-server's heap trimmer (HeapTrimPolicy) hands it back with malloc_trim. Before it, RSS stayed at its
peak.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pika
import pytest

from servers import AopServer
from support import Collector, params, pump, queue_count, target, wait_until

pytestmark = [pytest.mark.fresh_server, pytest.mark.slow]

MESSAGES = int(os.environ.get("AOP_HEAP_MESSAGES", "120000"))
BODY = 1024
KEEP_EVERY = 64
RETURN_BOUND_MIB = 80   # RSS after the drain may exceed the start by this much (measured: +43 MiB with the
                        # trimmer, +169 MiB without it, debug build, 115 MiB drained)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(target() != "aop", reason="reads the aop-server process's RSS")
@pytest.mark.timeout(240)
def test_rss_returns_after_a_consumed_backlog():
    srv = AopServer()
    try:
        srv.start()
        conn = pika.BlockingConnection(params(srv))
        ch = conn.channel()
        for q in ("heap.keep", "heap.drain"):
            ch.queue_declare(q)
        start = rss_mib(srv.proc.pid)
        transient = pika.BasicProperties(delivery_mode=1)
        body = b"h" * BODY
        kept = 0
        for i in range(MESSAGES):
            if i % KEEP_EVERY == 0:
                ch.basic_publish("", "heap.keep", body, transient)
                kept += 1
            else:
                ch.basic_publish("", "heap.drain", body, transient)
        drained = MESSAGES - kept
        wait_until(lambda: queue_count(ch, "heap.drain") == drained, timeout=60, message="backlog queued")
        peak = rss_mib(srv.proc.pid)
        ch.basic_qos(prefetch_count=1000)
        got = Collector(ch, ack=True)
        ch.basic_consume("heap.drain", got)
        pump(conn, lambda: len(got.messages) >= drained, timeout=120, message=f"{drained} messages drained")
        assert queue_count(ch, "heap.keep") == kept
        backlog_mib = drained * BODY / 2**20
        # The trimmer looks every 5 s; give it a few looks.
        deadline = time.monotonic() + 30
        while rss_mib(srv.proc.pid) - start >= RETURN_BOUND_MIB and time.monotonic() < deadline:
            time.sleep(0.5)
        now = rss_mib(srv.proc.pid)
        print(f"RSS {start:.1f} MiB at start, {peak:.1f} MiB with {backlog_mib:.0f} MiB queued, {now:.1f} MiB after the drain")
        assert peak - start > backlog_mib / 2, "the backlog did not show in RSS: the test measures nothing"
        assert now - start < RETURN_BOUND_MIB, f"RSS stayed {now - start:.1f} MiB above its start after the drain"
        conn.close()
    except BaseException:
        print(srv.log_tail(30))
        raise
    finally:
        srv.cleanup()
