"""A tiny, self-contained AMQP 0-9-1 frame encoder/decoder and a blocking raw client.

Used by the raw-socket tests, which need to send things no well-behaved client library
would send (bad frame-end octets, oversized frames, unknown methods, exact header field
types) and to observe exactly what the server answers. Only the standard library is used.

Field-table values are encoded by Python type (bool→'t', int→'I' or 'l', str→'S',
bytes→'x', float→'d', Decimal→'D', datetime→'T', dict→'F', list→'A', None→'V') unless given
explicitly as a ``Typed(code, value)``; decoding with ``typed=True`` returns ``Typed`` values
so tests can check the exact wire type that came back.
"""

from __future__ import annotations

import datetime
import decimal
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE

# ---------------------------------------------------------------------------------------------
# Method table: (class-id, method-id) -> (name, [(argument name, type), ...])
# Types: octet short long longlong shortstr longstr bit table timestamp
# ---------------------------------------------------------------------------------------------
_CLOSE_ARGS = [("reply_code", "short"), ("reply_text", "shortstr"), ("class_id", "short"), ("method_id", "short")]
METHODS: dict[tuple[int, int], tuple[str, list[tuple[str, str]]]] = {
    (10, 10): ("connection.start", [("version_major", "octet"), ("version_minor", "octet"),
                                    ("server_properties", "table"), ("mechanisms", "longstr"),
                                    ("locales", "longstr")]),
    (10, 11): ("connection.start-ok", [("client_properties", "table"), ("mechanism", "shortstr"),
                                       ("response", "longstr"), ("locale", "shortstr")]),
    (10, 20): ("connection.secure", [("challenge", "longstr")]),
    (10, 21): ("connection.secure-ok", [("response", "longstr")]),
    (10, 30): ("connection.tune", [("channel_max", "short"), ("frame_max", "long"), ("heartbeat", "short")]),
    (10, 31): ("connection.tune-ok", [("channel_max", "short"), ("frame_max", "long"), ("heartbeat", "short")]),
    (10, 40): ("connection.open", [("virtual_host", "shortstr"), ("reserved_1", "shortstr"), ("reserved_2", "bit")]),
    (10, 41): ("connection.open-ok", [("reserved_1", "shortstr")]),
    (10, 50): ("connection.close", _CLOSE_ARGS),
    (10, 51): ("connection.close-ok", []),
    (10, 60): ("connection.blocked", [("reason", "shortstr")]),
    (10, 61): ("connection.unblocked", []),
    (20, 10): ("channel.open", [("reserved_1", "shortstr")]),
    (20, 11): ("channel.open-ok", [("reserved_1", "longstr")]),
    (20, 20): ("channel.flow", [("active", "bit")]),
    (20, 21): ("channel.flow-ok", [("active", "bit")]),
    (20, 40): ("channel.close", _CLOSE_ARGS),
    (20, 41): ("channel.close-ok", []),
    (40, 10): ("exchange.declare", [("reserved_1", "short"), ("exchange", "shortstr"), ("type", "shortstr"),
                                    ("passive", "bit"), ("durable", "bit"), ("auto_delete", "bit"),
                                    ("internal", "bit"), ("no_wait", "bit"), ("arguments", "table")]),
    (40, 11): ("exchange.declare-ok", []),
    (40, 20): ("exchange.delete", [("reserved_1", "short"), ("exchange", "shortstr"), ("if_unused", "bit"),
                                   ("no_wait", "bit")]),
    (40, 21): ("exchange.delete-ok", []),
    (50, 10): ("queue.declare", [("reserved_1", "short"), ("queue", "shortstr"), ("passive", "bit"),
                                 ("durable", "bit"), ("exclusive", "bit"), ("auto_delete", "bit"),
                                 ("no_wait", "bit"), ("arguments", "table")]),
    (50, 11): ("queue.declare-ok", [("queue", "shortstr"), ("message_count", "long"), ("consumer_count", "long")]),
    (50, 20): ("queue.bind", [("reserved_1", "short"), ("queue", "shortstr"), ("exchange", "shortstr"),
                              ("routing_key", "shortstr"), ("no_wait", "bit"), ("arguments", "table")]),
    (50, 21): ("queue.bind-ok", []),
    (50, 30): ("queue.purge", [("reserved_1", "short"), ("queue", "shortstr"), ("no_wait", "bit")]),
    (50, 31): ("queue.purge-ok", [("message_count", "long")]),
    (50, 40): ("queue.delete", [("reserved_1", "short"), ("queue", "shortstr"), ("if_unused", "bit"),
                                ("if_empty", "bit"), ("no_wait", "bit")]),
    (50, 41): ("queue.delete-ok", [("message_count", "long")]),
    (60, 10): ("basic.qos", [("prefetch_size", "long"), ("prefetch_count", "short"), ("global", "bit")]),
    (60, 11): ("basic.qos-ok", []),
    (60, 20): ("basic.consume", [("reserved_1", "short"), ("queue", "shortstr"), ("consumer_tag", "shortstr"),
                                 ("no_local", "bit"), ("no_ack", "bit"), ("exclusive", "bit"), ("no_wait", "bit"),
                                 ("arguments", "table")]),
    (60, 21): ("basic.consume-ok", [("consumer_tag", "shortstr")]),
    (60, 30): ("basic.cancel", [("consumer_tag", "shortstr"), ("no_wait", "bit")]),
    (60, 31): ("basic.cancel-ok", [("consumer_tag", "shortstr")]),
    (60, 40): ("basic.publish", [("reserved_1", "short"), ("exchange", "shortstr"), ("routing_key", "shortstr"),
                                 ("mandatory", "bit"), ("immediate", "bit")]),
    (60, 50): ("basic.return", [("reply_code", "short"), ("reply_text", "shortstr"), ("exchange", "shortstr"),
                                ("routing_key", "shortstr")]),
    (60, 60): ("basic.deliver", [("consumer_tag", "shortstr"), ("delivery_tag", "longlong"),
                                 ("redelivered", "bit"), ("exchange", "shortstr"), ("routing_key", "shortstr")]),
    (60, 70): ("basic.get", [("reserved_1", "short"), ("queue", "shortstr"), ("no_ack", "bit")]),
    (60, 71): ("basic.get-ok", [("delivery_tag", "longlong"), ("redelivered", "bit"), ("exchange", "shortstr"),
                                ("routing_key", "shortstr"), ("message_count", "long")]),
    (60, 72): ("basic.get-empty", [("reserved_1", "shortstr")]),
    (60, 80): ("basic.ack", [("delivery_tag", "longlong"), ("multiple", "bit")]),
    (60, 90): ("basic.reject", [("delivery_tag", "longlong"), ("requeue", "bit")]),
    (60, 110): ("basic.recover", [("requeue", "bit")]),
    (60, 111): ("basic.recover-ok", []),
    (60, 120): ("basic.nack", [("delivery_tag", "longlong"), ("multiple", "bit"), ("requeue", "bit")]),
    (85, 10): ("confirm.select", [("no_wait", "bit")]),
    (85, 11): ("confirm.select-ok", []),
    (90, 10): ("tx.select", []),
    (90, 11): ("tx.select-ok", []),
    (90, 20): ("tx.commit", []),
    (90, 21): ("tx.commit-ok", []),
    (90, 30): ("tx.rollback", []),
    (90, 31): ("tx.rollback-ok", []),
}
METHOD_IDS = {name: key for key, (name, _) in METHODS.items()}

# Basic content-header properties in flag order (bit 15 first).
PROPERTIES = [
    ("content_type", "shortstr"), ("content_encoding", "shortstr"), ("headers", "table"),
    ("delivery_mode", "octet"), ("priority", "octet"), ("correlation_id", "shortstr"),
    ("reply_to", "shortstr"), ("expiration", "shortstr"), ("message_id", "shortstr"),
    ("timestamp", "timestamp"), ("type", "shortstr"), ("user_id", "shortstr"),
    ("app_id", "shortstr"), ("cluster_id", "shortstr"),
]


@dataclass(frozen=True)
class Typed:
    """A field value with an explicit AMQP field-type code (e.g. Typed('u', 7))."""
    code: str
    value: Any


class ProtocolViolation(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------
def enc_shortstr(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    if len(b) > 255:
        raise ValueError("shortstr too long")
    return struct.pack("!B", len(b)) + b


def enc_longstr(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!I", len(b)) + b


def _infer(value: Any) -> Typed:
    if isinstance(value, Typed):
        return value
    if isinstance(value, bool):
        return Typed("t", value)
    if isinstance(value, int):
        return Typed("I", value) if -2**31 <= value < 2**31 else Typed("l", value)
    if isinstance(value, str):
        return Typed("S", value)
    if isinstance(value, (bytes, bytearray)):
        return Typed("x", bytes(value))
    if isinstance(value, float):
        return Typed("d", value)
    if isinstance(value, decimal.Decimal):
        return Typed("D", value)
    if isinstance(value, datetime.datetime):
        return Typed("T", value)
    if isinstance(value, dict):
        return Typed("F", value)
    if isinstance(value, (list, tuple)):
        return Typed("A", list(value))
    if value is None:
        return Typed("V", None)
    raise TypeError(f"cannot encode {value!r}")


def enc_field_value(value: Any) -> bytes:
    t = _infer(value)
    c, v = t.code, t.value
    head = c.encode()
    if c == "t":
        return head + struct.pack("!B", 1 if v else 0)
    if c == "b":
        return head + struct.pack("!b", v)
    if c == "B":
        return head + struct.pack("!B", v)
    if c == "s":
        return head + struct.pack("!h", v)
    if c == "u":
        return head + struct.pack("!H", v)
    if c == "I":
        return head + struct.pack("!i", v)
    if c == "i":
        return head + struct.pack("!I", v)
    if c == "l":
        return head + struct.pack("!q", v)
    if c == "L":
        return head + struct.pack("!Q", v)
    if c == "f":
        return head + struct.pack("!f", v)
    if c == "d":
        return head + struct.pack("!d", v)
    if c == "D":
        sign, digits, exponent = v.as_tuple()
        scale = -exponent if exponent < 0 else 0
        unscaled = int(v.scaleb(scale))
        return head + struct.pack("!Bi", scale, unscaled)
    if c == "S":
        return head + enc_longstr(v)
    if c == "x":
        return head + enc_longstr(v)
    if c == "T":
        ts = v if isinstance(v, int) else int(v.replace(tzinfo=datetime.timezone.utc).timestamp())
        return head + struct.pack("!Q", ts)
    if c == "F":
        return head + enc_table(v)
    if c == "A":
        body = b"".join(enc_field_value(x) for x in v)
        return head + struct.pack("!I", len(body)) + body
    if c == "V":
        return head
    raise ValueError(f"unknown field type {c!r}")


def enc_table(table: dict | None) -> bytes:
    body = b""
    for k, v in (table or {}).items():
        body += enc_shortstr(k) + enc_field_value(v)
    return struct.pack("!I", len(body)) + body


def encode_args(types: list[tuple[str, str]], values: dict[str, Any]) -> bytes:
    out = b""
    bits: list[bool] = []

    def flush() -> bytes:
        nonlocal bits
        if not bits:
            return b""
        chunks = b""
        for i in range(0, len(bits), 8):
            octet = 0
            for j, bit in enumerate(bits[i:i + 8]):
                if bit:
                    octet |= 1 << j
            chunks += struct.pack("!B", octet)
        bits = []
        return chunks

    for name, typ in types:
        v = values.get(name)
        if typ == "bit":
            bits.append(bool(v))
            continue
        out += flush()
        if typ == "octet":
            out += struct.pack("!B", v or 0)
        elif typ == "short":
            out += struct.pack("!H", v or 0)
        elif typ == "long":
            out += struct.pack("!I", v or 0)
        elif typ in ("longlong", "timestamp"):
            out += struct.pack("!Q", v or 0)
        elif typ == "shortstr":
            out += enc_shortstr(v or "")
        elif typ == "longstr":
            out += enc_longstr(v or b"")
        elif typ == "table":
            out += enc_table(v)
        else:
            raise ValueError(typ)
    return out + flush()


def frame(frame_type: int, channel: int, payload: bytes, end: int = FRAME_END) -> bytes:
    return struct.pack("!BHI", frame_type, channel, len(payload)) + payload + bytes([end])


def method_payload(name: str, **args: Any) -> bytes:
    cid, mid = METHOD_IDS[name]
    return struct.pack("!HH", cid, mid) + encode_args(METHODS[(cid, mid)][1], args)


def method_frame(channel: int, name: str, **args: Any) -> bytes:
    return frame(FRAME_METHOD, channel, method_payload(name, **args))


def encode_properties(props: dict[str, Any]) -> bytes:
    flags = 0
    body = b""
    for i, (name, typ) in enumerate(PROPERTIES):
        if name not in props or props[name] is None:
            continue
        flags |= 1 << (15 - i)
        v = props[name]
        if typ == "shortstr":
            body += enc_shortstr(v)
        elif typ == "table":
            body += enc_table(v)
        elif typ == "octet":
            body += struct.pack("!B", v)
        elif typ == "timestamp":
            body += struct.pack("!Q", v)
    return struct.pack("!H", flags) + body


def header_frame(channel: int, body_size: int, props: dict[str, Any] | None = None,
                 raw_props: bytes | None = None) -> bytes:
    p = raw_props if raw_props is not None else encode_properties(props or {})
    return frame(FRAME_HEADER, channel, struct.pack("!HHQ", 60, 0, body_size) + p)


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------
class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolViolation("truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def shortstr(self) -> str:
        return self.take(self.unpack("!B")).decode("utf-8", "surrogateescape")

    def longstr(self) -> bytes:
        return self.take(self.unpack("!I"))

    def table(self, typed: bool = False) -> dict:
        raw = self.longstr()
        r = Reader(raw)
        out = {}
        while r.pos < len(raw):
            k = r.shortstr()
            out[k] = r.field_value(typed)
        return out

    def field_value(self, typed: bool = False) -> Any:
        c = self.take(1).decode()
        fmts = {"t": "!B", "b": "!b", "B": "!B", "s": "!h", "u": "!H", "I": "!i", "i": "!I",
                "l": "!q", "L": "!Q", "f": "!f", "d": "!d"}
        if c in fmts:
            v = self.unpack(fmts[c])
            if c == "t":
                v = bool(v)
        elif c == "D":
            scale = self.unpack("!B")
            unscaled = self.unpack("!i")
            v = decimal.Decimal(unscaled).scaleb(-scale)
        elif c == "S":
            v = self.longstr().decode("utf-8", "surrogateescape")
        elif c == "x":
            v = self.longstr()
        elif c == "T":
            v = self.unpack("!Q")
        elif c == "F":
            v = self.table(typed)
        elif c == "A":
            raw = self.longstr()
            r = Reader(raw)
            v = []
            while r.pos < len(raw):
                v.append(r.field_value(typed))
        elif c == "V":
            v = None
        else:
            raise ProtocolViolation(f"unknown field type {c!r}")
        return Typed(c, v) if typed else v


def decode_args(types: list[tuple[str, str]], data: bytes, typed_tables: bool = False) -> dict[str, Any]:
    r = Reader(data)
    out: dict[str, Any] = {}
    bit_octet = 0
    bit_index = 8
    for name, typ in types:
        if typ == "bit":
            if bit_index >= 8:
                bit_octet = r.unpack("!B")
                bit_index = 0
            out[name] = bool(bit_octet & (1 << bit_index))
            bit_index += 1
            continue
        bit_index = 8
        if typ == "octet":
            out[name] = r.unpack("!B")
        elif typ == "short":
            out[name] = r.unpack("!H")
        elif typ == "long":
            out[name] = r.unpack("!I")
        elif typ in ("longlong", "timestamp"):
            out[name] = r.unpack("!Q")
        elif typ == "shortstr":
            out[name] = r.shortstr()
        elif typ == "longstr":
            out[name] = r.longstr()
        elif typ == "table":
            out[name] = r.table(typed_tables)
    return out


def decode_properties(data: bytes, typed: bool = False) -> dict[str, Any]:
    r = Reader(data)
    flags = r.unpack("!H")
    out: dict[str, Any] = {}
    for i, (name, typ) in enumerate(PROPERTIES):
        if not flags & (1 << (15 - i)):
            continue
        if typ == "shortstr":
            out[name] = r.shortstr()
        elif typ == "table":
            out[name] = r.table(typed)
        elif typ == "octet":
            out[name] = r.unpack("!B")
        elif typ == "timestamp":
            out[name] = r.unpack("!Q")
    return out


@dataclass
class Frame:
    type: int
    channel: int
    payload: bytes
    end: int = FRAME_END
    # For method frames:
    method: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        if self.type == FRAME_METHOD:
            return f"Frame(ch={self.channel}, {self.method}, {self.args})"
        return f"Frame(type={self.type}, ch={self.channel}, {len(self.payload)} bytes)"


def parse_frame(type_: int, channel: int, payload: bytes) -> Frame:
    f = Frame(type_, channel, payload)
    if type_ == FRAME_METHOD:
        cid, mid = struct.unpack("!HH", payload[:4])
        if (cid, mid) not in METHODS:
            f.method = f"unknown({cid},{mid})"
        else:
            name, types = METHODS[(cid, mid)]
            f.method = name
            f.args = decode_args(types, payload[4:])
    return f


@dataclass
class Message:
    method: Frame
    properties_raw: bytes
    body_size: int
    body: bytes

    def properties(self, typed: bool = False) -> dict[str, Any]:
        return decode_properties(self.properties_raw, typed)


# ---------------------------------------------------------------------------------------------
# Blocking raw connection
# ---------------------------------------------------------------------------------------------
class Closed(Exception):
    """The peer closed the TCP connection."""


class RawConnection:
    """A blocking socket speaking raw frames. Every read has a timeout."""

    def __init__(self, host: str, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.frame_max = 131072
        self.channel_max = 0
        self.heartbeat = 0
        self.server_properties: dict = {}

    # -- plumbing ------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_method(self, channel: int, name: str, **args: Any) -> None:
        self.send(method_frame(channel, name, **args))

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for data")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as e:
            raise TimeoutError("timed out waiting for data") from e
        except ConnectionResetError as e:
            raise Closed("connection reset") from e
        if not chunk:
            raise Closed("peer closed the connection")
        self.buf += chunk

    def read_bytes(self, n: int, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout: float | None = None) -> Frame:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while len(self.buf) < 7:
            self._fill(deadline)
        type_, channel, size = struct.unpack("!BHI", self.buf[:7])
        while len(self.buf) < 7 + size + 1:
            self._fill(deadline)
        payload = self.buf[7:7 + size]
        end = self.buf[7 + size]
        self.buf = self.buf[8 + size:]
        if end != FRAME_END:
            raise ProtocolViolation(f"bad frame end {end:#x}")
        return parse_frame(type_, channel, payload)

    def read_until_closed(self, timeout: float) -> list[Frame]:
        """Read frames until the peer closes the socket; returns them.

        Raises TimeoutError (with the frames read so far in ``.frames``) if the socket is
        still open after ``timeout`` seconds.
        """
        frames: list[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                frames.append(self.read_frame(timeout=max(0.001, deadline - time.monotonic())))
            except Closed:
                return frames
            except TimeoutError as e:
                e.frames = frames  # type: ignore[attr-defined]
                raise

    def read_frames(self, timeout: float) -> tuple[list[Frame], bool]:
        """Read frames for up to ``timeout`` seconds; returns (frames, peer_closed)."""
        try:
            return self.read_until_closed(timeout), True
        except TimeoutError as e:
            return e.frames, False  # type: ignore[attr-defined]

    def read_until_connection_close(self, timeout: float) -> list[Frame]:
        """Read frames until a connection.close arrives or the peer closes the socket.

        Returns the frames read (the connection.close, if any, is last). Never raises on timeout.
        """
        frames: list[Frame] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                f = self.read_frame(timeout=max(0.001, deadline - time.monotonic()))
            except (Closed, TimeoutError):
                break
            frames.append(f)
            if f.type == FRAME_METHOD and f.method == "connection.close":
                break
        return frames

    def expect(self, name: str, channel: int | None = None, timeout: float | None = None,
               skip_heartbeats: bool = True) -> Frame:
        while True:
            f = self.read_frame(timeout)
            if f.type == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            if f.type == FRAME_METHOD and f.method == name and (channel is None or f.channel == channel):
                return f
            raise ProtocolViolation(f"expected {name}, got {f!r}")

    def next_method(self, timeout: float | None = None) -> Frame:
        while True:
            f = self.read_frame(timeout)
            if f.type == FRAME_HEARTBEAT:
                continue
            return f

    def close_socket(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- handshake -----------------------------------------------------------------------------
    def start(self, user: str = "guest", password: str = "guest", client_properties: dict | None = None) -> Frame:
        """Send the protocol header, read connection.start and send start-ok (PLAIN)."""
        self.send(PROTOCOL_HEADER)
        start = self.expect("connection.start")
        self.server_properties = Reader(start.payload[6:]).table()
        props = client_properties if client_properties is not None else {
            "product": "aop-itests", "capabilities": {"authentication_failure_close": True,
                                                      "consumer_cancel_notify": True,
                                                      "basic.nack": True, "publisher_confirms": True}}
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        self.send_method(0, "connection.start-ok", client_properties=props, mechanism="PLAIN",
                         response=response, locale="en_US")
        return start

    def handshake(self, user: str = "guest", password: str = "guest", vhost: str = "/",
                  heartbeat: int = 0, frame_max: int | None = None, channel_max: int | None = None) -> Frame:
        """Full handshake up to connection.open-ok. Returns the connection.tune frame."""
        self.start(user, password)
        tune = self.expect("connection.tune")
        self.channel_max = channel_max if channel_max is not None else tune.args["channel_max"]
        self.frame_max = frame_max if frame_max is not None else tune.args["frame_max"]
        self.heartbeat = heartbeat
        self.send_method(0, "connection.tune-ok", channel_max=self.channel_max, frame_max=self.frame_max,
                         heartbeat=heartbeat)
        self.send_method(0, "connection.open", virtual_host=vhost)
        self.expect("connection.open-ok")
        return tune

    def open_channel(self, channel: int = 1) -> None:
        self.send_method(channel, "channel.open")
        self.expect("channel.open-ok", channel)

    def call(self, channel: int, name: str, reply: str, **args: Any) -> Frame:
        self.send_method(channel, name, **args)
        return self.expect(reply, channel)

    def close(self, timeout: float = 5.0) -> None:
        """Client-initiated clean close: close → close-ok, then the socket."""
        self.send_method(0, "connection.close", reply_code=200, reply_text="bye")
        while True:
            f = self.read_frame(timeout)
            if f.type == FRAME_METHOD and f.method == "connection.close-ok":
                break
        self.close_socket()

    # -- content -------------------------------------------------------------------------------
    def publish(self, channel: int, exchange: str, routing_key: str, body: bytes,
                props: dict[str, Any] | None = None, raw_props: bytes | None = None,
                mandatory: bool = False) -> None:
        data = method_frame(channel, "basic.publish", exchange=exchange, routing_key=routing_key,
                            mandatory=mandatory)
        data += header_frame(channel, len(body), props, raw_props)
        max_payload = self.frame_max - 8 if self.frame_max else len(body) or 1
        for i in range(0, len(body), max_payload):
            data += frame(FRAME_BODY, channel, body[i:i + max_payload])
        self.send(data)

    def read_content(self, method: Frame, timeout: float | None = None) -> Message:
        h = self.read_frame(timeout)
        if h.type != FRAME_HEADER:
            raise ProtocolViolation(f"expected content header, got {h!r}")
        _cid, _weight, size = struct.unpack("!HHQ", h.payload[:12])
        body = b""
        while len(body) < size:
            b = self.read_frame(timeout)
            if b.type != FRAME_BODY:
                raise ProtocolViolation(f"expected body, got {b!r}")
            body += b.payload
        return Message(method, h.payload[12:], size, body)

    def get(self, channel: int, queue: str, no_ack: bool = True) -> Message | None:
        self.send_method(channel, "basic.get", queue=queue, no_ack=no_ack)
        f = self.next_method()
        if f.method == "basic.get-empty":
            return None
        if f.method != "basic.get-ok":
            raise ProtocolViolation(f"expected basic.get-ok, got {f!r}")
        return self.read_content(f)
