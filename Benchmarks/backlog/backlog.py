#!/usr/bin/env python3
"""Backlog benchmark client (raw AMQP frames, no dependencies beyond Tests/Integration/amqp_raw.py).

  backlog.py publish PORT QUEUE COUNT PROCS   publish COUNT persistent 1 KiB messages from PROCS processes
                                              (one connection each, confirm mode, window 2000); prints msgs/s
  backlog.py count PORT QUEUE                 prints the queue's message count (passive declare)
  backlog.py drain PORT QUEUE COUNT           one consumer (prefetch 2000, multiple acks) until COUNT arrive
"""
from __future__ import annotations

import multiprocessing as mp
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "Integration"))
from amqp_raw import FRAME_METHOD, RawConnection, header_frame, method_frame, frame, FRAME_BODY  # noqa: E402

WINDOW = 2000
BATCH = 250
BODY = b"b" * 1024


def connect(port: int) -> RawConnection:
    c = RawConnection("127.0.0.1", port, timeout=60)
    c.handshake()
    c.open_channel(1)
    return c


def publisher(port: int, queue: str, count: int, out) -> None:
    c = connect(port)
    c.call(1, "queue.declare", "queue.declare-ok", queue=queue, durable=True)
    c.call(1, "confirm.select", "confirm.select-ok")
    one = (method_frame(1, "basic.publish", exchange="", routing_key=queue)
           + header_frame(1, len(BODY), {"delivery_mode": 2}) + frame(FRAME_BODY, 1, BODY))
    sent = 0
    confirmed = 0
    t0 = time.monotonic()
    while confirmed < count:
        while sent < count and sent - confirmed < WINDOW:
            n = min(BATCH, count - sent, WINDOW - (sent - confirmed))
            c.send(one * n)
            sent += n
        f = c.next_method(timeout=120)
        if f.method == "basic.nack":
            raise SystemExit("nacked")
        assert f.method == "basic.ack", f
        t = f.args["delivery_tag"]
        confirmed = t if f.args["multiple"] else max(confirmed, t)  # acks arrive in order here
    out.put((count, time.monotonic() - t0))
    c.close()


def publish(port: int, queue: str, count: int, procs: int) -> None:
    q: mp.Queue = mp.Queue()
    per = [count // procs + (1 if i < count % procs else 0) for i in range(procs)]
    t0 = time.monotonic()
    ps = [mp.Process(target=publisher, args=(port, queue, n, q)) for n in per]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    dt = time.monotonic() - t0
    print(f"published {count} in {dt:.1f}s = {count / dt:,.0f} msg/s "
          f"(per process: {', '.join(f'{n / t:,.0f}/s' for n, t in results)})")


def count_(port: int, queue: str) -> int:
    c = connect(port)
    ok = c.call(1, "queue.declare", "queue.declare-ok", queue=queue, durable=True, passive=True)
    c.close()
    return ok.args["message_count"]


def drain(port: int, queue: str, count: int) -> None:
    c = connect(port)
    c.call(1, "basic.qos", "basic.qos-ok", prefetch_count=WINDOW)
    c.call(1, "basic.consume", "basic.consume-ok", queue=queue, consumer_tag="d")
    t0 = time.monotonic()
    got = 0
    while got < count:
        f = c.next_method(timeout=60)
        assert f.method == "basic.deliver", f
        m = c.read_content(f)
        assert m.body == BODY
        got += 1
        if got % 500 == 0 or got == count:
            c.send_method(1, "basic.ack", delivery_tag=f.args["delivery_tag"], multiple=True)
    dt = time.monotonic() - t0
    print(f"drained {got} in {dt:.1f}s = {got / dt:,.0f} msg/s")
    c.close()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "publish":
        publish(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "count":
        print(count_(int(sys.argv[2]), sys.argv[3]))
    elif cmd == "drain":
        drain(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
