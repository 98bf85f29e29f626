"""Queue declare/bind/purge/delete semantics."""

from __future__ import annotations

import pika
import pytest

from support import connect, consumer_count, expect_channel_close, queue_count, wait_until

pytestmark = pytest.mark.queues


def fill(ch, q, n, prefix=b"m"):
    ch.confirm_delivery()
    for i in range(n):
        ch.basic_publish("", q, prefix + str(i).encode())


def test_passive_declare_missing_is_404(conn, names):
    ch = conn.channel()
    # RabbitMQ 3.10: 404 "NOT_FOUND - no queue '...' in vhost '/'"
    expect_channel_close(404, lambda: ch.queue_declare(names("missing"), passive=True), "NOT_FOUND")


def test_server_named_queue(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    assert q.startswith("amq.gen-")
    q2 = ch.queue_declare("", exclusive=True).method.queue
    assert q2 != q


def test_declare_ok_counts(broker, conn, ch, names):
    q = names("counts")
    ok = ch.queue_declare(q, auto_delete=False).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 0, 0)
    fill(ch, q, 3)
    c2 = connect(broker)
    try:
        ch2 = c2.channel()
        ch2.basic_qos(prefetch_count=1)
        ch2.basic_consume(q, lambda *a: None)
        # 1 message in flight (unacked) to the consumer, 2 ready: message_count counts ready ones
        wait_until(lambda: ch.queue_declare(q, passive=True).method.message_count == 2, message="2 ready")
        ok = ch.queue_declare(q, passive=True).method
        assert (ok.message_count, ok.consumer_count) == (2, 1)
        ok = ch.queue_declare(q).method  # non-passive redeclare reports the same
        assert (ok.message_count, ok.consumer_count) == (2, 1)
    finally:
        c2.close()
    wait_until(lambda: queue_count(ch, q) == 3, message="unacked message requeued on close")
    assert consumer_count(ch, q) == 0
    ch.queue_delete(q)


def test_exclusive_queue_locked_for_other_connections(broker, conn, names):
    q = names("excl")
    conn.channel().queue_declare(q, exclusive=True)
    other = connect(broker)
    try:
        # RabbitMQ 3.10: 405 "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '...' in
        # vhost '/'. It could be originally declared on another connection or the exclusive property
        # value does not match that of the original declaration."
        expect_channel_close(405, lambda: other.channel().queue_declare(q, exclusive=True), "RESOURCE_LOCKED")
        expect_channel_close(405, lambda: other.channel().queue_declare(q), "RESOURCE_LOCKED")
        expect_channel_close(405, lambda: other.channel().queue_declare(q, passive=True), "RESOURCE_LOCKED")
        expect_channel_close(405, lambda: other.channel().basic_consume(q, lambda *a: None), "RESOURCE_LOCKED")
        expect_channel_close(405, lambda: other.channel().basic_get(q), "RESOURCE_LOCKED")
        expect_channel_close(405, lambda: other.channel().queue_delete(q), "RESOURCE_LOCKED")
    finally:
        other.close()


def test_exclusive_queue_deleted_on_close(broker, conn, names):
    q = names("excl")
    c = connect(broker)
    c.channel().queue_declare(q, exclusive=True)
    conn.channel().basic_publish("", q, b"x")
    c.close()
    wait_until(lambda: _queue_gone(conn, q), message="exclusive queue deletion")


def _queue_gone(conn, q) -> bool:
    try:
        conn.channel().queue_declare(q, passive=True)
        return False
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404
        return True


def test_auto_delete_after_last_consumer(conn, names):
    q = names("ad")
    ch = conn.channel()
    ch.queue_declare(q, auto_delete=True)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"before any consumer")
    assert queue_count(ch, q) == 1  # not deleted before it ever had a consumer
    t1 = ch.basic_consume(q, lambda *a: None, auto_ack=True)
    t2 = ch.basic_consume(q, lambda *a: None, auto_ack=True)
    ch.basic_cancel(t1)
    assert consumer_count(ch, q) == 1  # still there with one consumer left
    ch.basic_cancel(t2)
    wait_until(lambda: _queue_gone(conn, q), message="auto-delete queue deletion")


def test_redeclare_with_other_args_is_406(conn, names):
    q = names("args")
    conn.channel().queue_declare(q, arguments={"x-message-ttl": 1000}, auto_delete=True)
    ch = conn.channel()
    ch.basic_consume(q, lambda *a: None)  # keep it alive (auto-delete)
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '...' in vhost
    # '/': received '2000' but current is '1000'"
    expect_channel_close(406, lambda: conn.channel().queue_declare(q, arguments={"x-message-ttl": 2000},
                                                                   auto_delete=True), "inequivalent arg")
    expect_channel_close(406, lambda: conn.channel().queue_declare(q, auto_delete=True), "inequivalent arg")
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '...' ..."
    expect_channel_close(406, lambda: conn.channel().queue_declare(q, durable=True, auto_delete=True,
                                                                   arguments={"x-message-ttl": 1000}), "durable")
    # equivalent redeclare is fine
    conn.channel().queue_declare(q, arguments={"x-message-ttl": 1000}, auto_delete=True)


def test_bind_unbind_with_args(conn, names):
    ch = conn.channel()
    ch.confirm_delivery()
    x = names("hx")
    ch.exchange_declare(x, "headers", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "", arguments={"x-match": "all", "k": "1"})
    ch.queue_bind(q, x, "", arguments={"x-match": "all", "k": "2"})
    props = lambda v: pika.BasicProperties(headers={"k": v})  # noqa: E731
    ch.basic_publish(x, "", b"1", properties=props("1"))
    ch.basic_publish(x, "", b"2", properties=props("2"))
    assert queue_count(ch, q) == 2
    ch.queue_purge(q)
    # unbind needs the same arguments: only the "k=1" binding goes away
    ch.queue_unbind(q, x, "", arguments={"x-match": "all", "k": "1"})
    ch.basic_publish(x, "", b"1", properties=props("1"))
    ch.basic_publish(x, "", b"2", properties=props("2"))
    m = ch.basic_get(q, auto_ack=True)
    assert m[2] == b"2"
    assert ch.basic_get(q, auto_ack=True)[0] is None


def test_unbind_missing_binding_is_ok(ch, names):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_unbind(q, "amq.direct", "never-bound")  # RabbitMQ 3.10: unbind-ok


def test_purge_returns_count(ch, names):
    q = ch.queue_declare("", exclusive=True).method.queue
    fill(ch, q, 7)
    assert ch.queue_purge(q).method.message_count == 7
    assert queue_count(ch, q) == 0
    assert ch.queue_purge(q).method.message_count == 0


def test_purge_keeps_unacked(ch, conn):
    q = ch.queue_declare("", exclusive=True).method.queue
    fill(ch, q, 3)
    m = ch.basic_get(q, auto_ack=False)
    assert ch.queue_purge(q).method.message_count == 2
    ch.basic_nack(m[0].delivery_tag, requeue=True)
    wait_until(lambda: queue_count(ch, q) == 1, message="nacked message back")


def test_delete_returns_count(ch, names):
    q = names("del")
    ch.queue_declare(q)
    fill(ch, q, 4)
    assert ch.queue_delete(q).method.message_count == 4


def test_delete_missing_queue_is_ok(ch, names):
    # RabbitMQ 3.10: queue.delete of a missing queue answers delete-ok with message-count 0.
    assert ch.queue_delete(names("never")).method.message_count == 0


def test_delete_if_empty_and_if_unused(conn, names):
    q = names("cond")
    ch = conn.channel()
    ch.queue_declare(q)
    fill(ch, q, 2)
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - queue '...' in vhost '/' not empty"
    expect_channel_close(406, lambda: conn.channel().queue_delete(q, if_empty=True), "not empty")
    c2 = conn.channel()
    tag = c2.basic_consume(q, lambda *a: None)
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - queue '...' in vhost '/' in use"
    expect_channel_close(406, lambda: conn.channel().queue_delete(q, if_unused=True), "in use")
    c2.basic_cancel(tag)  # unacked deliveries go back to the queue
    c2.close()
    ch = conn.channel()
    wait_until(lambda: queue_count(ch, q) == 2, message="requeue")
    assert ch.queue_delete(q, if_unused=True).method.message_count == 2
    q2 = names("cond2")
    ch.queue_declare(q2)
    assert ch.queue_delete(q2, if_empty=True, if_unused=True).method.message_count == 0


def test_queue_name_amq_prefix_is_403(conn):
    # RabbitMQ 3.10: 403 "ACCESS_REFUSED - queue name 'amq.itest' contains reserved prefix 'amq.*'"
    expect_channel_close(403, lambda: conn.channel().queue_declare("amq.itest"), "ACCESS_REFUSED")


def test_queue_declare_nowait_then_use(broker, names):
    # aio-pika/amqp091-go users rely on no-wait declares being applied in order.
    from amqp_raw import RawConnection
    q = names("nowait")
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    c.send_method(1, "queue.declare", queue=q, no_wait=True)
    c.publish(1, "", q, b"after nowait declare")
    m = None
    import time
    deadline = time.monotonic() + 5
    while m is None and time.monotonic() < deadline:
        m = c.get(1, q)
    assert m is not None and m.body == b"after nowait declare"
    c.call(1, "queue.delete", "queue.delete-ok", queue=q)
    c.close()


def test_concurrent_declare_of_same_durable_queue(broker, names):
    """Several connections declare the same durable queue at once (like two tutorial workers)."""
    import threading
    q = names("race")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker():
        try:
            c = connect(broker)
            try:
                ch = c.channel()
                start.wait(timeout=10)
                ch.queue_declare(q, durable=True)
                ch.confirm_delivery()
                ch.basic_publish("", q, b"x", properties=pika.BasicProperties(delivery_mode=2))
            finally:
                if c.is_open:
                    c.close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    c = connect(broker)
    ch = c.channel()
    assert queue_count(ch, q) == 4
    ch.queue_delete(q)
    c.close()
