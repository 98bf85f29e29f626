"""Consuming: consumers, tags, priorities, cancel, qos, get, ack/nack/reject, requeue, recover."""

from __future__ import annotations

import pika
import pytest

from support import Collector, connect, consumer_count, expect_channel_close, pump, queue_count, settle, wait_until

pytestmark = pytest.mark.consume


def new_queue(ch, n=0, prefix="m", **kw):
    q = ch.queue_declare("", exclusive=kw.pop("exclusive", True), **kw).method.queue
    publish(ch, q, n, prefix)
    return q


def publish(ch, q, n, prefix="m"):
    if n:
        pub = ch.connection.channel()
        pub.confirm_delivery()
        for i in range(n):
            pub.basic_publish("", q, f"{prefix}{i}".encode())
        pub.close()


def test_no_ack_consumer_gets_everything(conn, ch):
    q = new_queue(ch, 20)
    col = Collector(ch)
    ch.basic_consume(q, col, auto_ack=True)
    pump(conn, lambda: len(col.messages) == 20)
    assert col.bodies == [f"m{i}".encode() for i in range(20)]
    assert queue_count(conn.channel(), q) == 0


def test_consumer_tags(conn, ch):
    q = new_queue(ch, 1)
    col = Collector(ch)
    tag = ch.basic_consume(q, col, auto_ack=True, consumer_tag="my-tag")
    assert tag == "my-tag"
    pump(conn, lambda: col.messages)
    assert col.messages[0][0].consumer_tag == "my-tag"
    t2 = ch.basic_consume(q, col, auto_ack=True)
    assert t2 != "my-tag" and t2


def test_server_generated_consumer_tag_raw(broker):
    from amqp_raw import RawConnection
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    q = c.call(1, "queue.declare", "queue.declare-ok", queue="", exclusive=True).args["queue"]
    ok = c.call(1, "basic.consume", "basic.consume-ok", queue=q, consumer_tag="")
    # RabbitMQ 3.10: "amq.ctag-<random>"
    assert ok.args["consumer_tag"].startswith("amq.ctag-")
    ok2 = c.call(1, "basic.consume", "basic.consume-ok", queue=q, consumer_tag="")
    assert ok2.args["consumer_tag"] != ok.args["consumer_tag"]
    cancel = c.call(1, "basic.cancel", "basic.cancel-ok", consumer_tag=ok.args["consumer_tag"])
    assert cancel.args["consumer_tag"] == ok.args["consumer_tag"]
    # duplicate tag on the same channel: RabbitMQ 3.10 connection.close 530
    # "NOT_ALLOWED - attempt to reuse consumer tag '...'"
    c.send_method(1, "basic.consume", queue=q, consumer_tag=ok2.args["consumer_tag"])
    f = c.next_method()
    assert f.method == "connection.close" and f.args["reply_code"] == 530, f


def test_consume_missing_queue_is_404(conn, names):
    ch = conn.channel()
    # RabbitMQ 3.10: 404 "NOT_FOUND - no queue '...' in vhost '/'"
    expect_channel_close(404, lambda: ch.basic_consume(names("nq"), lambda *a: None), "NOT_FOUND")


def test_exclusive_consumer(broker, conn, names):
    q = names("xc")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    ch.basic_consume(q, lambda *a: None, exclusive=True)
    other = connect(broker)
    try:
        # RabbitMQ 3.10: 403 "ACCESS_REFUSED - queue '...' in vhost '/' in exclusive use"
        expect_channel_close(403, lambda: other.channel().basic_consume(q, lambda *a: None), "exclusive use")
        # and an exclusive consume on a queue that already has a consumer is refused too
        q2 = names("xc2")
        ch.queue_declare(q2, auto_delete=True)
        ch.basic_consume(q2, lambda *a: None)
        expect_channel_close(403, lambda: other.channel().basic_consume(q2, lambda *a: None, exclusive=True),
                             "ACCESS_REFUSED")
    finally:
        other.close()


def test_consumer_priority(broker, conn, names):
    q = names("prio")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    low_ch, high_ch = conn.channel(), conn.channel()
    low, high = Collector(low_ch, ack=True), Collector(high_ch, ack=True)
    low_ch.basic_qos(prefetch_count=50)
    high_ch.basic_qos(prefetch_count=50)
    low_ch.basic_consume(q, low, arguments={"x-priority": 1})
    high_ch.basic_consume(q, high, arguments={"x-priority": 10})
    publish(ch, q, 20)
    pump(conn, lambda: len(high.messages) + len(low.messages) == 20)
    assert len(high.messages) == 20 and low.messages == []


def test_consumer_priority_falls_back_when_high_is_full(conn, names):
    q = names("prio2")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    low_ch, high_ch = conn.channel(), conn.channel()
    low, high = Collector(low_ch), Collector(high_ch)  # no acks: high blocks at prefetch 2
    high_ch.basic_qos(prefetch_count=2)
    low_ch.basic_qos(prefetch_count=100)
    high_ch.basic_consume(q, high, arguments={"x-priority": 5})
    low_ch.basic_consume(q, low, arguments={"x-priority": -1})
    publish(ch, q, 10)
    pump(conn, lambda: len(high.messages) + len(low.messages) == 10)
    assert len(high.messages) == 2 and len(low.messages) == 8


def test_basic_cancel_stops_deliveries(conn, ch):
    q = new_queue(ch, 0)
    col = Collector(ch, ack=True)
    tag = ch.basic_consume(q, col)
    publish(ch, q, 3)
    pump(conn, lambda: len(col.messages) == 3)
    ch.basic_cancel(tag)
    publish(ch, q, 2, "after")
    settle(conn, 0.3)
    assert len(col.messages) == 3
    assert queue_count(ch, q) == 2
    assert consumer_count(ch, q) == 0


def test_server_cancels_consumer_when_queue_deleted(conn, names):
    q = names("del")
    ch = conn.channel()
    ch.queue_declare(q)
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = ch.basic_consume(q, lambda *a: None)
    conn.channel().queue_delete(q)
    pump(conn, lambda: cancelled, timeout=5, message="server-sent basic.cancel")
    assert cancelled == [tag]
    assert ch.is_open


def test_qos_per_consumer(conn, ch):
    qa, qb = new_queue(ch, 5, "a"), new_queue(ch, 5, "b")
    c = conn.channel()
    c.basic_qos(prefetch_count=2)  # global=false: a limit for each new consumer
    col = Collector(c)
    c.basic_consume(qa, col)
    c.basic_consume(qb, col)
    pump(conn, lambda: len(col.messages) == 4)
    settle(conn, 0.3)
    assert sorted(col.bodies) == [b"a0", b"a1", b"b0", b"b1"]
    c.basic_ack(0, multiple=True)
    pump(conn, lambda: len(col.messages) == 8)


def test_qos_global_shared_by_channel(conn, ch):
    qa, qb = new_queue(ch, 5, "a"), new_queue(ch, 5, "b")
    c = conn.channel()
    c.basic_qos(prefetch_count=3, global_qos=True)  # RabbitMQ: global=true = shared by the channel
    col = Collector(c)
    c.basic_consume(qa, col)
    c.basic_consume(qb, col)
    pump(conn, lambda: len(col.messages) == 3)
    settle(conn, 0.3)
    assert len(col.messages) == 3
    c.basic_ack(col.messages[0][0].delivery_tag)
    pump(conn, lambda: len(col.messages) == 4)
    settle(conn, 0.2)
    assert len(col.messages) == 4


def test_qos_both_limits(conn, ch):
    qa, qb = new_queue(ch, 5, "a"), new_queue(ch, 5, "b")
    c = conn.channel()
    c.basic_qos(prefetch_count=3, global_qos=True)
    c.basic_qos(prefetch_count=1, global_qos=False)
    col = Collector(c)
    c.basic_consume(qa, col)
    c.basic_consume(qb, col)
    pump(conn, lambda: len(col.messages) == 2)
    settle(conn, 0.3)
    assert sorted(col.bodies) == [b"a0", b"b0"]  # one each: the per-consumer limit binds first


def test_round_robin(conn, ch):
    q = new_queue(ch, 0)
    c1, c2 = conn.channel(), conn.channel()
    a, b = Collector(c1), Collector(c2)
    c1.basic_consume(q, a, auto_ack=True)
    c2.basic_consume(q, b, auto_ack=True)
    publish(ch, q, 10)
    pump(conn, lambda: len(a.messages) + len(b.messages) == 10)
    assert len(a.messages) == 5 and len(b.messages) == 5
    assert sorted(a.bodies + b.bodies) == sorted(f"m{i}".encode() for i in range(10))


def test_basic_get_and_get_empty(ch):
    q = new_queue(ch, 3)
    counts = []
    for i in range(3):
        m, props, body = ch.basic_get(q, auto_ack=True)
        assert body == f"m{i}".encode()
        counts.append(m.message_count)
    assert counts == [2, 1, 0]  # message-count = messages left after this one
    assert ch.basic_get(q, auto_ack=True) == (None, None, None)


def test_get_empty_raw(broker):
    from amqp_raw import RawConnection
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    q = c.call(1, "queue.declare", "queue.declare-ok", queue="", exclusive=True).args["queue"]
    c.send_method(1, "basic.get", queue=q)
    assert c.next_method().method == "basic.get-empty"
    c.close()


def test_ack_multiple(conn, ch):
    q = new_queue(ch, 5)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(5)]
    assert tags == sorted(tags) and len(set(tags)) == 5
    ch.basic_ack(tags[2], multiple=True)  # acks 1..3
    ch.basic_ack(tags[4])
    ch.close()  # only tags[3] is unacked: it comes back
    c = conn.channel()
    wait_until(lambda: queue_count(c, q) == 1)
    assert c.basic_get(q, auto_ack=True)[2] == b"m3"


def test_nack_multiple_requeue_keeps_order(conn, ch):
    q = new_queue(ch, 4)
    got = [ch.basic_get(q) for _ in range(3)]
    ch.basic_nack(got[-1][0].delivery_tag, multiple=True, requeue=True)
    again = [ch.basic_get(q, auto_ack=True) for _ in range(4)]
    assert [m[2] for m in again] == [b"m0", b"m1", b"m2", b"m3"]
    assert [m[0].redelivered for m in again] == [True, True, True, False]


def test_reject_requeue_redelivered(ch):
    q = new_queue(ch, 2)
    m = ch.basic_get(q)
    assert not m[0].redelivered
    ch.basic_reject(m[0].delivery_tag, requeue=True)
    m2 = ch.basic_get(q, auto_ack=True)
    assert m2[2] == b"m0" and m2[0].redelivered


def test_reject_without_requeue_drops(ch):
    q = new_queue(ch, 1)
    m = ch.basic_get(q)
    ch.basic_reject(m[0].delivery_tag, requeue=False)
    assert ch.basic_get(q, auto_ack=True) == (None, None, None)


def test_reject_to_dlx(ch, names):
    dlq = new_queue(ch, 0)
    q = ch.queue_declare("", exclusive=True, arguments={"x-dead-letter-exchange": "",
                                                        "x-dead-letter-routing-key": dlq}).method.queue
    publish(ch, q, 1)
    m = ch.basic_get(q)
    ch.basic_reject(m[0].delivery_tag, requeue=False)
    wait_until(lambda: queue_count(ch, dlq) == 1)
    m2 = ch.basic_get(dlq, auto_ack=True)
    assert m2[2] == b"m0"
    assert m2[1].headers["x-death"][0]["reason"] == "rejected"


def test_basic_recover_redelivers_unacked(conn, ch):
    q = new_queue(ch, 0)
    col = Collector(ch)
    ch.basic_consume(q, col)
    publish(ch, q, 3)
    pump(conn, lambda: len(col.messages) == 3)
    ch.basic_ack(col.messages[0][0].delivery_tag)
    ch.basic_recover(requeue=True)
    pump(conn, lambda: len(col.messages) == 5)
    again = col.messages[3:]
    assert sorted(m[2] for m in again) == [b"m1", b"m2"]
    assert all(m[0].redelivered for m in again)


def test_unacked_requeued_on_channel_close(conn, ch):
    q = new_queue(ch, 3)
    c = conn.channel()
    col = Collector(c)
    c.basic_consume(q, col)
    pump(conn, lambda: len(col.messages) == 3)
    assert queue_count(ch, q) == 0
    c.close()
    wait_until(lambda: queue_count(ch, q) == 3, message="requeue on channel close")
    ms = [ch.basic_get(q, auto_ack=True) for _ in range(3)]
    assert [m[2] for m in ms] == [b"m0", b"m1", b"m2"] and all(m[0].redelivered for m in ms)


def test_unacked_requeued_on_connection_close(broker, conn, names):
    q = names("rq")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=False)
    publish(ch, q, 2)
    other = connect(broker)
    oc = other.channel()
    col = Collector(oc)
    oc.basic_consume(q, col)
    pump(other, lambda: len(col.messages) == 2)
    other.close()
    wait_until(lambda: queue_count(ch, q) == 2, message="requeue on connection close")
    ch.queue_delete(q)


def test_unknown_delivery_tag_is_406(conn, ch):
    q = new_queue(ch, 1)
    m = ch.basic_get(q)
    ch.basic_ack(m[0].delivery_tag)
    ch.basic_ack(m[0].delivery_tag)  # double ack
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - unknown delivery tag 1"
    expect_channel_close(406, lambda: ch.queue_declare("", exclusive=True), "unknown delivery tag")


def test_delivery_tags_are_per_channel(conn, ch):
    q = new_queue(ch, 4)
    c1, c2 = conn.channel(), conn.channel()
    assert c1.basic_get(q)[0].delivery_tag == 1
    assert c2.basic_get(q)[0].delivery_tag == 1
    assert c1.basic_get(q)[0].delivery_tag == 2


def test_no_ack_get_is_not_requeued(conn, ch):
    q = new_queue(ch, 1)
    c = conn.channel()
    c.basic_get(q, auto_ack=True)
    c.close()
    settle(conn, 0.2)
    assert queue_count(ch, q) == 0


def test_pika_consume_generator(conn, ch):
    q = new_queue(ch, 3)
    got = []
    for method, props, body in ch.consume(q, inactivity_timeout=2):
        if method is None:
            break
        got.append(body)
        ch.basic_ack(method.delivery_tag)
        if len(got) == 3:
            break
    ch.cancel()
    assert got == [b"m0", b"m1", b"m2"]


def test_deleting_queue_on_consuming_channel_cancels_consumer_raw(broker, names):
    from amqp_raw import RawConnection
    q = names("selfdel")
    c = RawConnection(broker.host, broker.port)
    c.handshake()  # advertises consumer_cancel_notify
    c.open_channel(1)
    c.call(1, "queue.declare", "queue.declare-ok", queue=q)
    c.call(1, "basic.consume", "basic.consume-ok", queue=q, consumer_tag="ct")
    c.send_method(1, "queue.delete", queue=q)
    got = [c.next_method(timeout=3), c.next_method(timeout=3)]
    # RabbitMQ 3.10 sends queue.delete-ok, then basic.cancel(ct); the order is not asserted.
    assert sorted(f.method for f in got) == ["basic.cancel", "queue.delete-ok"]
    cancel = next(f for f in got if f.method == "basic.cancel")
    assert cancel.args["consumer_tag"] == "ct" and cancel.channel == 1
    c.close()


@pytest.mark.parametrize("attempt", range(5))
def test_deliveries_in_flight_when_a_connection_dies_go_back_to_the_queue(broker, names, attempt):
    # A consumer's connection is reset while the queue is handing it deliveries: every message must come
    # back (unacked deliveries are requeued). aop-stress found aop dropping the deliveries that queues had
    # already passed to the dying connection but it had not written yet: they stayed unacked in the queue.
    import socket
    import struct
    from amqp_raw import RawConnection
    c = connect(broker)
    ch = c.channel()
    q = names("in-flight")
    ch.queue_declare(q)
    ch.confirm_delivery()
    total = 3000
    for i in range(total):
        ch.basic_publish("", q, b"x" * 100)
    raw = RawConnection(broker.host, broker.port, timeout=5)
    raw.handshake()
    raw.open_channel(1)
    raw.send_method(1, "basic.consume", queue=q, consumer_tag="dying", no_ack=False)
    raw.expect("basic.consume-ok", 1)
    raw.read_bytes(4096)  # deliveries are flowing
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close_socket()  # RST: the server tears the connection down mid-stream
    try:
        wait_until(lambda: queue_count(ch, q) == total and consumer_count(ch, q) == 0, timeout=10,
                   message=f"all {total} messages back in the queue")
    finally:
        last = queue_count(ch, q)
        ch.queue_delete(q)
        c.close()
    assert last == total
