"""Connections that pipeline publishes with other methods, then close or abort (found by aop-stress).

A method on a channel waits for that channel's queued publishes; the connection's teardown waits for
every queued publish. A lost wake-up of aop's publish worker left both waiting forever: the method
never got its reply (a "stall"), and the torn-down connection's consumers stayed registered with their
unacked messages (a queue "still showing a consumer after every client is gone"), which also held up
graceful shutdown.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time

from amqp_raw import FRAME_METHOD, Closed, RawConnection, frame, header_frame, method_frame
from servers import REPO_ROOT
from support import consumer_count, target, wait_until


def _publish_bytes(channel: int, queue: str, count: int, frame_max: int) -> bytes:
    body = b"x" * 64
    data = b""
    for _ in range(count):
        data += method_frame(channel, "basic.publish", exchange="", routing_key=queue)
        data += header_frame(channel, len(body), {"delivery_mode": 2}, None)  # persistent: a commit round
        data += frame(3, channel, body)
    return data


def _wait_for(c: RawConnection, name: str, channel: int, timeout: float) -> bool:
    """Reads (and drops) frames until method `name` on `channel`; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            f = c.read_frame(max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return False
        if f.type == FRAME_METHOD and f.method == name and f.channel == channel:
            return True
        if f.type == FRAME_METHOD and f.method == "basic.deliver":
            # Settle deliveries as they come (ack, or nack with requeue now and then): deliveries and
            # settlements interleave with the publishes and methods on the same connection.
            tag = f.args["delivery_tag"]
            if tag % 7 == 0:
                c.send(method_frame(f.channel, "basic.nack", delivery_tag=tag, multiple=True, requeue=True))
            else:
                c.send(method_frame(f.channel, "basic.ack", delivery_tag=tag))
    return False


def _churn(broker, queue: str, seed: int, rounds: int, stalls: list[str], errors: list[str]) -> None:
    rnd = random.Random(seed)
    try:
        c = RawConnection(broker.host, broker.port, timeout=10)
        c.handshake()
        for ch in (1, 2, 3):
            c.open_channel(ch)
        c.call(1, "confirm.select", "confirm.select-ok")
        c.call(3, "basic.qos", "basic.qos-ok", prefetch_count=50)
        c.call(3, "basic.consume", "basic.consume-ok", queue=queue, consumer_tag="c")
        for r in range(rounds):
            ch = rnd.choice((1, 2))
            data = _publish_bytes(1, queue, rnd.randint(1, 40), c.frame_max)
            data += _publish_bytes(2, queue, rnd.randint(0, 40), c.frame_max)
            data += method_frame(ch, "basic.qos", prefetch_count=rnd.randint(1, 100))
            c.send(data)
            if not _wait_for(c, "basic.qos-ok", ch, 10.0):
                stalls.append(f"seed {seed} round {r}: basic.qos on channel {ch} got no reply in 10 s")
                break
        # End with publishes still in the pipeline: abort (socket closed) or a clean close.
        c.send(_publish_bytes(1, queue, 40, c.frame_max))
        if rnd.random() < 0.5:
            c.close_socket()
        else:
            c.close(timeout=10)
    except (Closed, OSError, TimeoutError) as e:
        errors.append(f"seed {seed}: {e!r}")


def test_pipelined_publishes_then_methods_and_teardown(broker, ch, names):
    queue = names("teardown")
    ch.queue_declare(queue, durable=True)
    stalls: list[str] = []
    errors: list[str] = []
    threads = [threading.Thread(target=_churn, args=(broker, queue, seed, 30, stalls, errors))
               for seed in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not stalls, stalls
    assert not errors, errors
    # Every connection is gone: so must be every consumer (their unacked messages requeued).
    wait_until(lambda: consumer_count(ch, queue) == 0, timeout=10,
               message="the consumers of closed connections to be gone")
    ch.queue_delete(queue)


def test_aop_stress_churn_leaves_no_consumer_behind(broker):
    """aop-stress's connection churn (the reproduction of the bug: at 40 connections × 5 channels for
    10 s, before the fix, every run left stable queues with consumers of closed connections and their
    unacked messages counted as lost)."""
    binary = os.environ.get("AOP_STRESS_BIN") or str(REPO_ROOT / ".build" / "debug" / "aop-stress")
    assert os.path.exists(binary), f"{binary} missing: swift build --product aop-stress (or set AOP_STRESS_BIN)"
    run = subprocess.run(
        [binary, "--host", broker.host, "--port", str(broker.port), "--connections", "40", "--channels", "5",
         "--duration", "10", "--seed", "3", "--drain-timeout", "40"],
        capture_output=True, text=True, timeout=180)
    summary = json.loads(run.stdout)
    tail = run.stderr[-3000:]
    assert summary["queuesNotDrained"] == {}, f"{summary['queuesNotDrained']}\n{tail}"
    if target() == "aop":
        assert summary["violations"] == 0, tail


def test_sigterm_with_a_client_that_stopped_reading(fresh_broker, names):
    """Graceful shutdown closes every connection and exits, even one whose client stopped reading (its
    socket never drains: waiting for the flush before closing held the teardown, and the shutdown, forever)."""
    queue = names("stalled-reader")
    c = RawConnection(fresh_broker.host, fresh_broker.port, timeout=10)
    c.handshake()
    c.open_channel(1)
    c.call(1, "queue.declare", "queue.declare-ok", queue=queue)
    body = b"y" * 65536
    for _ in range(6):  # 24 MiB queued: far more than the socket buffers hold
        data = b""
        for _ in range(64):
            data += method_frame(1, "basic.publish", exchange="", routing_key=queue)
            data += header_frame(1, len(body), None, None)
            for i in range(0, len(body), c.frame_max - 8):
                data += frame(3, 1, body[i:i + c.frame_max - 8])
        c.send(data)
    c.send(method_frame(1, "basic.consume", queue=queue, consumer_tag="never-read", no_ack=True))
    time.sleep(1.0)  # deliveries fill the socket buffers; this client reads nothing more
    started = time.monotonic()
    fresh_broker.sigterm()
    try:
        fresh_broker.wait(timeout=8)
    finally:
        c.close_socket()
    assert time.monotonic() - started < 5, "aop-server took too long to shut down"
