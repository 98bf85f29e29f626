"""Transient messages are freed one by one: a queue that keeps a backlog pins only its own messages.

Fanout exchange E → Q1 (keeps KEEP transient messages, never consumed) and Q2 (consumed). After Q1 is
unbound, ROUNDS × PER_ROUND more transient messages of BODY bytes go through E to Q2 and are consumed
(manual ack; in the middle of it a channel closes with deliveries unacked, which requeues them). Before
per-entry release, Q1's backlog kept every later message of E in memory (~ROUNDS × PER_ROUND × BODY
bytes); now the server's peak RSS stays within GROWTH_BOUND_MIB of where it started, and Q1 still has
its messages, in order.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pika
import pytest

from servers import AopServer
from support import Collector, params, pump, queue_count, target, wait_until

pytestmark = [pytest.mark.fresh_server, pytest.mark.slow]

KEEP = 2000
ROUNDS = int(os.environ.get("AOP_PINNING_ROUNDS", "40"))
PER_ROUND = 500
BODY = 8192
GROWTH_BOUND_MIB = int(os.environ.get("AOP_PINNING_GROWTH_MIB", "64"))   # vs ~156 MiB pinned before


def status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def consume(conn: pika.BlockingConnection, ch, queue: str, count: int) -> list[bytes]:
    got = Collector(ch, ack=True)
    tag = ch.basic_consume(queue, got)
    pump(conn, lambda: len(got.messages) >= count, timeout=60, message=f"{count} messages from {queue}")
    ch.basic_cancel(tag)
    return got.bodies


@pytest.mark.skipif(target() != "aop", reason="reads the aop-server process's RSS")
@pytest.mark.timeout(240)
def test_a_backlog_pins_only_its_own_transient_messages():
    srv = AopServer()
    try:
        srv.start()
        conn = pika.BlockingConnection(params(srv))
        ch = conn.channel()
        ch.basic_qos(prefetch_count=200)
        ch.exchange_declare("pin.E", "fanout")
        for q in ("pin.Q1", "pin.Q2"):
            ch.queue_declare(q)
            ch.queue_bind(q, "pin.E")
        transient = pika.BasicProperties(delivery_mode=1)
        for i in range(KEEP):
            ch.basic_publish("pin.E", "", f"keep-{i}".encode(), transient)
        assert consume(conn, ch, "pin.Q2", KEEP)[-1] == f"keep-{KEEP - 1}".encode()
        ch.queue_unbind("pin.Q1", "pin.E")
        start = status_mib(srv.proc.pid, "VmRSS")
        body = b"x" * BODY
        for r in range(ROUNDS):
            for _ in range(PER_ROUND):
                ch.basic_publish("pin.E", "", body, transient)
            if r == ROUNDS // 2:
                # A channel closing with unacked deliveries: they are requeued, then consumed normally.
                other = conn.channel()
                other.basic_qos(prefetch_count=50)
                held = Collector(other, ack=False)
                other.basic_consume("pin.Q2", held)
                pump(conn, lambda: len(held.messages) >= 50, timeout=30, message="unacked deliveries")
                other.close()
            assert len(consume(conn, ch, "pin.Q2", PER_ROUND)) == PER_ROUND
        assert queue_count(ch, "pin.Q2") == 0
        peak = status_mib(srv.proc.pid, "VmHWM")
        now = status_mib(srv.proc.pid, "VmRSS")
        sent_mib = ROUNDS * PER_ROUND * BODY / 2**20
        print(f"RSS {start:.1f} MiB before, {now:.1f} MiB after, peak {peak:.1f} MiB; {sent_mib:.0f} MiB sent")
        assert peak - start < GROWTH_BOUND_MIB, (
            f"peak RSS grew by {peak - start:.1f} MiB while {sent_mib:.0f} MiB went through E and were consumed")
        assert queue_count(ch, "pin.Q1") == KEEP
        # SIGUSR1 lists the in-memory message topics holding messages: E's holds exactly Q1's.
        os.kill(srv.proc.pid, signal.SIGUSR1)
        line = f"exchange=pin.E topic=exchange-transient./.pin.E live={KEEP} "
        wait_until(lambda: line in srv.log_tail(200), timeout=10, message="SIGUSR1 topic statistics")
        assert "overReleases=0" in next(l for l in srv.log_tail(200).splitlines() if line in l)
        kept = consume(conn, ch, "pin.Q1", KEEP)
        assert kept == [f"keep-{i}".encode() for i in range(KEEP)]
        conn.close()
    except BaseException:
        print(srv.log_tail(30))
        raise
    finally:
        srv.cleanup()
