#!/usr/bin/env python3
"""Opens N idle AMQP 0-9-1 connections on loopback and holds them.

Each connection completes the handshake (PLAIN guest/guest, heartbeat 0 so neither side sends
anything afterwards) and opens channel 1, then stays silent. Handshakes run concurrently (a window
of in-flight handshakes) on non-blocking sockets in this one process, so no client library or thread
per connection is needed.

    idle_connections.py PORT N [--window 200]

Prints "ready N SECONDS" on stdout once every connection has its channel open, then holds them
until stdin closes or SIGTERM/SIGINT arrives. Exits 1 (with the reason on stderr) if a connection
fails or the broker closes one.
"""
from __future__ import annotations

import argparse
import errno
import resource
import selectors
import signal
import socket
import struct
import sys
import time

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD = 1
FRAME_END = 0xCE


def shortstr(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">B", len(b)) + b


def longstr(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def method_frame(channel: int, class_id: int, method_id: int, args: bytes) -> bytes:
    payload = struct.pack(">HH", class_id, method_id) + args
    return struct.pack(">BHI", FRAME_METHOD, channel, len(payload)) + payload + bytes([FRAME_END])


START_OK = method_frame(0, 10, 11, struct.pack(">I", 0) + shortstr("PLAIN")
                        + longstr(b"\x00guest\x00guest") + shortstr("en_US"))
OPEN = method_frame(0, 10, 40, shortstr("/") + shortstr("") + b"\x00")
CHANNEL_OPEN = method_frame(1, 20, 10, shortstr(""))


class Conn:
    __slots__ = ("sock", "inbuf", "outbuf", "done")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray(PROTOCOL_HEADER)
        self.done = False

    def frames(self):
        """Yields (channel, class_id, method_id) of each complete method frame received."""
        while len(self.inbuf) >= 7:
            ftype, channel, size = struct.unpack_from(">BHI", self.inbuf, 0)
            if len(self.inbuf) < 8 + size:
                return
            payload = bytes(self.inbuf[7:7 + size])
            del self.inbuf[:8 + size]
            if ftype == FRAME_METHOD:
                class_id, method_id = struct.unpack_from(">HH", payload, 0)
                yield channel, class_id, method_id, payload


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        new = hard if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    if soft < needed:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} is below the {needed} descriptors needed")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--window", type=int, default=200, help="handshakes in flight at once")
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    raise_nofile(args.count + 64)

    stop = False

    def on_signal(_signo, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sel = selectors.DefaultSelector()
    conns: list[Conn] = []
    opened = ready = 0
    start = time.monotonic()
    deadline = start + args.timeout

    def fail(msg: str) -> None:
        print(f"idle_connections: {msg} ({ready} ready, {opened} opened)", file=sys.stderr, flush=True)
        sys.exit(1)

    while ready < args.count:
        if stop:
            sys.exit(1)
        if time.monotonic() > deadline:
            fail(f"timed out after {args.timeout} s")
        while opened < args.count and opened - ready < args.window:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((args.host, args.port))
            if err not in (0, errno.EINPROGRESS):
                fail(f"connect: {errno.errorcode.get(err, err)}")
            c = Conn(s)
            conns.append(c)
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
            opened += 1
        for key, events in sel.select(timeout=1.0):
            c: Conn = key.data
            if events & selectors.EVENT_WRITE and c.outbuf:
                try:
                    n = c.sock.send(c.outbuf)
                except BlockingIOError:
                    n = 0
                except OSError as e:
                    fail(f"send: {e}")
                del c.outbuf[:n]
            if events & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(65536)
                except BlockingIOError:
                    data = None
                except OSError as e:
                    fail(f"recv: {e}")
                if data == b"":
                    fail("broker closed a connection during the handshake")
                if data:
                    c.inbuf += data
                    for _channel, cls, meth, payload in c.frames():
                        if (cls, meth) == (10, 10):      # connection.start
                            c.outbuf += START_OK
                        elif (cls, meth) == (10, 30):    # connection.tune
                            # Accept the broker's channel-max and frame-max; heartbeat 0 (off).
                            channel_max, frame_max, _ = struct.unpack_from(">HIH", payload, 4)
                            tune_ok = method_frame(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))
                            c.outbuf += tune_ok + OPEN + CHANNEL_OPEN
                        elif (cls, meth) == (20, 11):    # channel.open-ok: done
                            c.done = True
                        elif (cls, meth) in ((10, 50), (20, 40)):
                            code, = struct.unpack_from(">H", payload, 4)
                            text_len = payload[6]
                            fail(f"broker closed: {code} {payload[7:7 + text_len].decode(errors='replace')}")
            if c.done:
                sel.unregister(c.sock)
                ready += 1
            elif not c.outbuf:
                sel.modify(c.sock, selectors.EVENT_READ, c)
            else:
                sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    print(f"ready {ready} {time.monotonic() - start:.2f}", flush=True)
    # Hold: watch the sockets (a broker closing one is an error) and stdin (closed = exit).
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
    try:
        sel.register(sys.stdin, selectors.EVENT_READ, None)
    except (ValueError, OSError):
        pass
    while not stop:
        for key, _ in sel.select(timeout=1.0):
            if key.data is None:
                if not sys.stdin.readline():
                    stop = True
                continue
            try:
                data = key.data.sock.recv(65536)
            except OSError as e:
                fail(f"idle connection failed: {e}")
            if data == b"":
                fail("broker closed an idle connection")
            # Anything else (e.g. a heartbeat the broker sends anyway) is ignored.
    for c in conns:
        c.sock.close()


if __name__ == "__main__":
    main()
