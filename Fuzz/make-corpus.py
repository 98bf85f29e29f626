#!/usr/bin/env python3
"""Writes the seed corpus of the libFuzzer targets to Fuzz/Corpus/<target>/ (small valid inputs).

Usage: python3 Fuzz/make-corpus.py [--spec PATH]

- FieldTableFuzz: field tables holding every field type (nested tables and arrays included).
- FrameDecoderFuzz: one file per AMQP method (a method frame with non-default arguments, every bit set),
  a content header with every basic property, body frames, a heartbeat, and a short connection stream.
- CommandAssemblerFuzz: frame streams: every content method followed by its header and body frames,
  a header with an empty body, plain methods, heartbeats in between, on two channels.

The methods come from the same spec XML and extension list as Scripts/generate-methods.py (imported from
it), so a method added there shows up here. Only the Python standard library is used.
"""

import argparse
import importlib.util
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

spec = importlib.util.spec_from_file_location("generate_methods", os.path.join(ROOT, "Scripts", "generate-methods.py"))
gm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gm)


def shortstr(s):
    b = s.encode()
    return bytes([len(b)]) + b


def longstr(b):
    return struct.pack(">I", len(b)) + b


def value(tag, payload):
    return tag.encode() + payload


def every_value():
    """(name, tagged value) for each field type RabbitMQ's errata define."""
    return [
        ("bool", value("t", b"\x01")),
        ("int8", value("b", struct.pack(">b", -5))),
        ("uint8", value("B", b"\xfa")),
        ("int16", value("s", struct.pack(">h", -300))),
        ("uint16", value("u", struct.pack(">H", 60000))),
        ("int32", value("I", struct.pack(">i", -70000))),
        ("uint32", value("i", struct.pack(">I", 4000000000))),
        ("int64", value("l", struct.pack(">q", -(1 << 40)))),
        ("uint64", value("L", struct.pack(">Q", 1 << 63))),
        ("float", value("f", struct.pack(">f", 1.5))),
        ("double", value("d", struct.pack(">d", -2.25))),
        ("decimal", value("D", b"\x02" + struct.pack(">I", 12345))),
        ("string", value("S", longstr(b"hello"))),
        ("bytes", value("x", longstr(b"\x00\xff\x10"))),
        ("timestamp", value("T", struct.pack(">Q", 1700000000))),
        ("void", value("V", b"")),
    ]


def table(entries):
    body = b"".join(shortstr(k) + v for k, v in entries)
    return struct.pack(">I", len(body)) + body


def array(values):
    body = b"".join(values)
    return struct.pack(">I", len(body)) + body


def sample_table():
    vals = every_value()
    inner = table(vals[:4])
    arr = array([v for _, v in vals] + [value("F", inner)])
    return table(vals + [("nested", value("F", inner)), ("array", value("A", arr))])


def field_bytes(t, name):
    if t == "octet":
        return b"\x07"
    if t == "short":
        return struct.pack(">H", 60)
    if t == "long":
        return struct.pack(">I", 131072)
    if t in ("longlong", "timestamp"):
        return struct.pack(">Q", 42)
    if t == "shortstr":
        return shortstr("amq." + name)
    if t == "longstr":
        return longstr(b"\x00guest\x00guest")
    if t == "table":
        return sample_table()
    raise SystemExit("unknown type %s" % t)


def method_payload(m):
    out = struct.pack(">HH", m.cls.index, m.index)
    for kind, item in gm.bit_groups(m.fields):
        if kind == "bits":
            out += bytes([(1 << len(item)) - 1])
        else:
            out += field_bytes(item.type, item.name)
    return out


def frame(ftype, channel, payload):
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + b"\xce"


def every_property():
    """A basic-class property list with all 14 flags set."""
    props = (shortstr("text/plain") + shortstr("gzip") + sample_table() + b"\x02" + b"\x05"
             + shortstr("corr") + shortstr("reply") + shortstr("60000") + shortstr("id-1")
             + struct.pack(">Q", 1700000000) + shortstr("type") + shortstr("user") + shortstr("app")
             + shortstr(""))
    return struct.pack(">H", 0xFFFC) + props


def header(class_id, body_size, props=b"\x00\x00"):
    return frame(2, 1, struct.pack(">HHQ", class_id, 0, body_size) + props)


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default=gm.DEFAULT_SPEC)
    args = ap.parse_args()
    classes = gm.load(args.spec)
    methods = [m for c in classes for m in c.methods]
    corpus = os.path.join(HERE, "Corpus")
    for target in ("FieldTableFuzz", "FrameDecoderFuzz", "CommandAssemblerFuzz"):
        shutil.rmtree(os.path.join(corpus, target), ignore_errors=True)

    d = os.path.join(corpus, "FieldTableFuzz")
    write(d, "empty", table([]))
    for name, v in every_value():
        write(d, "value-" + name, table([(name, v)]))
    write(d, "every-type", sample_table())
    write(d, "array", table([("a", value("A", array([v for _, v in every_value()])))]))

    d = os.path.join(corpus, "FrameDecoderFuzz")
    for m in methods:
        write(d, "method-%s-%s" % (m.cls.name, m.name), frame(1, 1, method_payload(m)))
    write(d, "header-all-properties", header(60, 5, every_property()))
    write(d, "header-no-properties", header(60, 0))
    write(d, "body", frame(3, 1, b"hello"))
    write(d, "heartbeat", frame(8, 0, b""))
    start_ok = next(m for m in methods if m.cls.name == "connection" and m.name == "start-ok")
    tune_ok = next(m for m in methods if m.cls.name == "connection" and m.name == "tune-ok")
    write(d, "stream-handshake", frame(1, 0, method_payload(start_ok)) + frame(1, 0, method_payload(tune_ok))
          + frame(8, 0, b""))

    d = os.path.join(corpus, "CommandAssemblerFuzz")
    for m in methods:
        if m.content:
            body = b"0123456789"
            data = (frame(1, 1, method_payload(m)) + header(m.cls.index, len(body), every_property())
                    + frame(3, 1, body[:4]) + frame(8, 0, b"") + frame(3, 1, body[4:]))
            write(d, "content-%s-%s" % (m.cls.name, m.name), data)
            write(d, "content-empty-%s-%s" % (m.cls.name, m.name),
                  frame(1, 2, method_payload(m)) + frame(2, 2, struct.pack(">HHQ", m.cls.index, 0, 0) + b"\x00\x00"))
    plain = [m for m in methods if not m.content]
    for i in range(0, len(plain), 8):
        data = b"".join(frame(1, 1 + j % 2, method_payload(m)) for j, m in enumerate(plain[i:i + 8]))
        write(d, "methods-%02d" % (i // 8), data)


if __name__ == "__main__":
    main()
