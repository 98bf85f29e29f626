"""Flow control: a consumer that stops reading must not make the broker buffer without bound.

aop bounds what it holds for a consumer by the consumer's credit (prefetch, or the no-ack window)
and by the connection's outbound high-watermark; the rest stays in the queue (on disk for
persistent messages). These tests measure aop-server's resident memory directly, so they are
aop-only (RabbitMQ's process tree does not expose one RSS to compare).
"""

from __future__ import annotations

import socket
import time

import pika
import pytest

from amqp_raw import RawConnection


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fill(broker, queue: str, count: int, size: int) -> None:
    conn = pika.BlockingConnection(pika.ConnectionParameters(broker.host, broker.port))
    ch = conn.channel()
    ch.queue_declare(queue)
    body = b"x" * size
    for _ in range(count):
        ch.basic_publish("", queue, body)
    deadline = time.monotonic() + 60
    while ch.queue_declare(queue, passive=True).method.message_count < count:
        assert time.monotonic() < deadline, "queue never reached the published count"
        time.sleep(0.1)
    conn.close()


@pytest.mark.parametrize("no_ack", [True, False])
def test_consumer_that_stops_reading_does_not_grow_broker_memory(broker, names, no_ack):
    if broker.kind != "aop":
        pytest.skip("measures aop-server's RSS")
    q = names("stall")
    count, size = 20_000, 4096  # 80 MiB of bodies
    fill(broker, q, count, size)
    pid = broker.proc.pid
    before = rss_kib(pid)

    c = RawConnection(broker.host, broker.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    c.handshake()
    c.open_channel(1)
    # Manual ack with the default prefetch (0 = unlimited): only the socket watermark bounds it.
    c.send_method(1, "basic.consume", queue=q, consumer_tag="stalled", no_ack=no_ack)
    # Stop reading for a while: the broker must stop too.
    peak = before
    t_end = time.monotonic() + 3
    while time.monotonic() < t_end:
        peak = max(peak, rss_kib(pid))
        time.sleep(0.1)
    growth_mib = (peak - before) / 1024
    assert growth_mib < 40, f"broker RSS grew {growth_mib:.1f} MiB for a consumer that reads nothing"

    # Now read: every message arrives, none lost.
    c.expect("basic.consume-ok", 1, timeout=10)
    received = 0
    last_tag = 0
    deadline = time.monotonic() + 120
    while received < count:
        assert time.monotonic() < deadline, f"only {received} of {count} delivered"
        f = c.read_frame(timeout=10)
        if f.method == "basic.deliver":
            c.read_content(f, timeout=10)
            received += 1
            last_tag = f.args["delivery_tag"]
            if not no_ack and received % 500 == 0:
                c.send_method(1, "basic.ack", delivery_tag=last_tag, multiple=True)
    if not no_ack and received % 500 != 0:
        c.send_method(1, "basic.ack", delivery_tag=last_tag, multiple=True)
    c.call(1, "queue.delete", "queue.delete-ok", queue=q)
    c.close()
