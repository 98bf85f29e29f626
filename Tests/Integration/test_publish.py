"""Publishing: properties, header field types, mandatory, confirms, transactions."""

from __future__ import annotations

import datetime
import decimal
import time

import pika
import pytest

from amqp_raw import RawConnection, Typed, encode_properties
from support import Collector, expect_channel_close, pump, queue_count, wait_until

pytestmark = pytest.mark.publish


def get_one(ch, q, timeout=5.0, auto_ack=True):
    deadline = time.monotonic() + timeout
    while True:
        m = ch.basic_get(q, auto_ack=auto_ack)
        if m[0] is not None:
            return m
        assert time.monotonic() < deadline, f"no message in {q}"
        time.sleep(0.01)


# pika cannot encode floats; the raw test below covers f/d.
ALL_PROPS = dict(
    content_type="application/json", content_encoding="gzip",
    headers={"h-str": "v", "h-int": 42, "h-neg": -7, "h-long": 2**40, "h-bool": True, "h-false": False,
             "h-bytes": b"\x00\x01\xff", "h-list": [1, "two", [3], {"four": 4}],
             "h-table": {"nested": {"deep": "yes"}, "n": 1}, "h-none": None,
             "h-decimal": decimal.Decimal("3.14"),
             "h-time": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)},
    delivery_mode=2, priority=7, correlation_id="corr-1", reply_to="reply.q", expiration="600000",
    message_id="msg-1", timestamp=1700000000, type="t.type", user_id="guest", app_id="itests",
    cluster_id="c1",
)


def test_all_properties_preserved_pika(broker, ch, names):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    ch.basic_publish("", q, b"body", properties=pika.BasicProperties(**ALL_PROPS))
    _, props, body = get_one(ch, q)
    assert body == b"body"
    for k, v in ALL_PROPS.items():
        got = getattr(props, k)
        if k == "headers":
            for hk, hv in v.items():
                assert got[hk] == hv, (hk, got[hk], hv)
            assert set(got) == set(v)
        else:
            assert got == v, (k, got, v)


ALL_TYPES = {
    "t": Typed("t", True), "b": Typed("b", -5), "B": Typed("B", 250), "s": Typed("s", -30000),
    "u": Typed("u", 60000), "I": Typed("I", -2_000_000_000), "i": Typed("i", 4_000_000_000),
    "l": Typed("l", -(2**62)), "f": Typed("f", 0.5), "d": Typed("d", 2.25),
    "D": Typed("D", decimal.Decimal("12.345")), "S": Typed("S", "long string ü"),
    "x": Typed("x", b"\x00bytes\xff"), "T": Typed("T", 1_700_000_000), "V": Typed("V", None),
    "A": Typed("A", [Typed("u", 1), Typed("S", "a"), Typed("A", []), Typed("F", {})]),
    "F": Typed("F", {"inner": Typed("b", 1), "deeper": Typed("F", {"z": Typed("l", 9)})}),
}


def test_every_header_field_type_preserved_exactly(broker, names):
    """Publish a content header using every field type RabbitMQ knows and compare bytes.

    RabbitMQ 3.10 forwards the content header unchanged; ('L', unsigned 64) is omitted because
    RabbitMQ 3.10 cannot parse it.
    """
    q = names("types")
    raw_props = encode_properties({"content_type": "x/y", "headers": ALL_TYPES, "delivery_mode": 1,
                                   "timestamp": 1234567890})
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    c.call(1, "queue.declare", "queue.declare-ok", queue=q)
    c.publish(1, "", q, b"typed", raw_props=raw_props)
    m = None
    deadline = time.monotonic() + 5
    while m is None and time.monotonic() < deadline:
        m = c.get(1, q)
    assert m is not None
    assert m.properties(typed=True)["headers"] == ALL_TYPES
    assert m.properties_raw == raw_props
    # also through a consumer (basic.deliver path)
    c.publish(1, "", q, b"typed2", raw_props=raw_props)
    c.call(1, "basic.consume", "basic.consume-ok", queue=q, consumer_tag="ct", no_ack=True)
    d = c.expect("basic.deliver", 1)
    msg = c.read_content(d)
    assert msg.body == b"typed2" and msg.properties_raw == raw_props
    c.call(1, "basic.cancel", "basic.cancel-ok", consumer_tag="ct")
    c.call(1, "queue.delete", "queue.delete-ok", queue=q)
    c.close()


def test_empty_and_large_bodies(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    big = bytes(range(256)) * 4096 * 4  # 4 MiB, many frames
    for body in (b"", b"x", big):
        ch.basic_publish("", q, body)
        assert get_one(ch, q)[2] == body


def test_mandatory_unroutable_is_returned_312(conn, names):
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, method, props, body: returned.append((method, props, body)))
    ch.basic_publish("amq.direct", names("nobody"), b"lost", mandatory=True,
                     properties=pika.BasicProperties(message_id="r1"))
    pump(conn, lambda: returned, timeout=5, message="basic.return")
    method, props, body = returned[0]
    # RabbitMQ 3.10: basic.return 312 "NO_ROUTE"
    assert method.reply_code == 312 and method.reply_text == "NO_ROUTE"
    assert method.exchange == "amq.direct"
    assert body == b"lost" and props.message_id == "r1"


def test_mandatory_with_confirms_raises_unroutable(ch, names):
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        ch.basic_publish("amq.direct", names("nobody"), b"lost", mandatory=True)
    ch.basic_publish("amq.direct", names("nobody"), b"dropped silently")  # not mandatory: just acked


def test_publish_to_unknown_exchange_closes_channel_404(conn, names):
    ch = conn.channel()
    x = names("nox")
    ch.basic_publish(x, "k", b"m")
    # RabbitMQ 3.10: channel.close 404 "NOT_FOUND - no exchange '...' in vhost '/'" (class 60, method 40)
    e = expect_channel_close(404, lambda: ch.queue_declare("", exclusive=True), "NOT_FOUND")
    assert "no exchange" in e.reply_text
    assert conn.channel().is_open  # connection survives


def test_confirms_cover_every_publish_once(broker):
    """Raw confirm mode: acks (single or multiple) cover each delivery tag exactly once."""
    n = 500
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    q = c.call(1, "queue.declare", "queue.declare-ok", queue="", exclusive=True).args["queue"]
    c.call(1, "confirm.select", "confirm.select-ok")
    for _ in range(n):
        c.publish(1, "", q, b"c")
    confirmed: list[int] = []
    saw_multiple = False
    while len(confirmed) < n:
        f = c.next_method()
        assert f.method == "basic.ack", f
        tag = f.args["delivery_tag"]
        if f.args["multiple"]:
            saw_multiple = True
            start = (max(confirmed) if confirmed else 0) + 1
            confirmed.extend(range(start, tag + 1))
        else:
            confirmed.append(tag)
    assert confirmed == list(range(1, n + 1))
    print(f"server used multiple acks: {saw_multiple}")
    c.close()


def test_confirm_multiple_pika(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    for i in range(50):
        ch.basic_publish("", q, str(i).encode())
    assert queue_count(ch, q) == 50


def test_nack_when_queue_rejects_publish(ch):
    q = ch.queue_declare("", exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}).method.queue
    ch.confirm_delivery()
    ch.basic_publish("", q, b"fits")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"refused")
    assert queue_count(ch, q) == 1
    assert get_one(ch, q)[2] == b"fits"


def test_nack_raw(broker):
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    q = c.call(1, "queue.declare", "queue.declare-ok", queue="", exclusive=True,
               arguments={"x-max-length": 2, "x-overflow": "reject-publish"}).args["queue"]
    c.call(1, "confirm.select", "confirm.select-ok")
    for _ in range(4):
        c.publish(1, "", q, b"m")
    outcomes: dict[int, str] = {}
    while len(outcomes) < 4:
        f = c.next_method()
        assert f.method in ("basic.ack", "basic.nack"), f
        tag = f.args["delivery_tag"]
        tags = range((max(outcomes) if outcomes else 0) + 1, tag + 1) if f.args["multiple"] else [tag]
        for t in tags:
            outcomes[t] = f.method
    assert outcomes == {1: "basic.ack", 2: "basic.ack", 3: "basic.nack", 4: "basic.nack"}
    c.close()


@pytest.mark.tx
def test_tx_commit_and_rollback_publishes(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.tx_select()
    ch.basic_publish("", q, b"rolled back")
    ch.tx_rollback()
    assert queue_count(conn.channel(), q) == 0
    ch.basic_publish("", q, b"a")
    ch.basic_publish("", q, b"b")
    assert queue_count(conn.channel(), q) == 0  # not visible before commit
    ch.tx_commit()
    other = conn.channel()
    assert [get_one(other, q)[2], get_one(other, q)[2]] == [b"a", b"b"]


@pytest.mark.tx
def test_tx_acks_commit_and_rollback(conn):
    setup = conn.channel()
    setup.confirm_delivery()
    q = setup.queue_declare("", exclusive=True).method.queue
    setup.basic_publish("", q, b"m1")
    setup.basic_publish("", q, b"m2")
    ch = conn.channel()
    ch.tx_select()
    m1 = get_one(ch, q, auto_ack=False)
    ch.basic_ack(m1[0].delivery_tag)
    ch.tx_rollback()  # the ack is discarded: m1 stays unacked on this channel
    m2 = get_one(ch, q, auto_ack=False)
    assert m2[2] == b"m2"
    ch.basic_ack(m2[0].delivery_tag)
    ch.tx_commit()  # m2 is gone for good
    ch.close()  # m1 (still unacked) is requeued
    check = conn.channel()
    wait_until(lambda: queue_count(check, q) == 1, message="m1 requeued")
    m = get_one(check, q)
    assert m[2] == b"m1" and m[0].redelivered


@pytest.mark.tx
@pytest.mark.confirms
def test_tx_then_confirm_is_406(conn):
    ch = conn.channel()
    ch.tx_select()
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - cannot switch from tx to confirm mode"
    expect_channel_close(406, ch.confirm_delivery, "PRECONDITION_FAILED")


@pytest.mark.tx
@pytest.mark.confirms
def test_confirm_then_tx_is_406(conn):
    ch = conn.channel()
    ch.confirm_delivery()
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - cannot switch from confirm to tx mode"
    expect_channel_close(406, ch.tx_select, "PRECONDITION_FAILED")


@pytest.mark.tx
def test_tx_commit_without_select_is_406(conn):
    ch = conn.channel()
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - channel is not transactional"
    expect_channel_close(406, ch.tx_commit, "PRECONDITION_FAILED")


def test_user_id_mismatch_is_406(conn):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"m", properties=pika.BasicProperties(user_id="someone-else"))
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - user_id property set to 'someone-else' but
    # authenticated user was 'guest'"
    expect_channel_close(406, lambda: ch.queue_declare("", exclusive=True), "user_id")


def test_publish_order_preserved(ch, conn):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.confirm_delivery()
    for i in range(300):
        ch.basic_publish("", q, str(i).encode())
    col = Collector(ch, ack=True)
    ch.basic_consume(q, col)
    pump(conn, lambda: len(col.messages) == 300, timeout=10)
    assert col.bodies == [str(i).encode() for i in range(300)]
