"""Idle connections: a connection that stops sending is parked by aop (no task while it waits; see
AMQPConnection.readLoop) and must wake up on the next frame, whether it went idle right after the
handshake or after a busy period (more than 16 reads, then a second of silence). Runs against
RabbitMQ too (AOP_TEST_TARGET=rabbitmq), where the same behaviour is simply expected."""
from __future__ import annotations

import time

from amqp_raw import FRAME_HEARTBEAT, RawConnection, frame


def raw(broker) -> RawConnection:
    return RawConnection(broker.host, broker.port, timeout=5)


def test_connection_idle_after_handshake_answers_later(broker):
    c = raw(broker)
    c.handshake()
    c.open_channel(1)
    time.sleep(1.5)  # parked
    c.call(1, "basic.qos", "basic.qos-ok", prefetch_size=0, prefetch_count=10, **{"global": False})
    c.open_channel(2)
    c.close()


def test_connection_idle_after_busy_period_answers_later(broker):
    c = raw(broker)
    c.handshake()
    c.open_channel(1)
    # Well over 16 separate reads: each round trip is one read on the server.
    for i in range(40):
        c.call(1, "basic.qos", "basic.qos-ok", prefetch_size=0, prefetch_count=i + 1, **{"global": False})
    time.sleep(2.5)  # silent for longer than the idle check (1 s): the read task parks
    for i in range(3):
        c.call(1, "basic.qos", "basic.qos-ok", prefetch_size=0, prefetch_count=i + 1, **{"global": False})
    c.close()


def test_heartbeat_frames_keep_a_busy_connection_readable(broker):
    c = raw(broker)
    c.handshake()
    c.open_channel(1)
    for _ in range(30):
        c.send(frame(FRAME_HEARTBEAT, 0, b""))
        time.sleep(0.005)
    time.sleep(1.5)
    c.call(1, "basic.qos", "basic.qos-ok", prefetch_size=0, prefetch_count=1, **{"global": False})
    c.close()
