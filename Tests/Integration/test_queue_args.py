"""Queue arguments: TTLs, queue expiry, dead-lettering, length limits, priorities, SAC."""

from __future__ import annotations

import time

import pika
import pytest

from support import Collector, expect_channel_close, pump, queue_count, settle, wait_until

pytestmark = pytest.mark.queue_args


def declare(ch, **args):
    return ch.queue_declare("", exclusive=True, arguments=args).method.queue


def pub(ch, q, bodies, exchange="", **props):
    c = ch.connection.channel()
    c.confirm_delivery()
    for b in bodies:
        c.basic_publish(exchange, q, b if isinstance(b, bytes) else b.encode(),
                        properties=pika.BasicProperties(**props) if props else None)
    c.close()


def get_all(ch, q):
    out = []
    while True:
        m = ch.basic_get(q, auto_ack=True)
        if m[0] is None:
            return out
        out.append(m)


def bodies(ms):
    return [m[2] for m in ms]


@pytest.mark.ttl
def test_queue_message_ttl(ch):
    q = declare(ch, **{"x-message-ttl": 150})
    pub(ch, q, ["a", "b"])
    assert queue_count(ch, q) == 2
    wait_until(lambda: queue_count(ch, q) == 0, timeout=5, message="messages expired")
    assert get_all(ch, q) == []


@pytest.mark.ttl
def test_per_message_expiration(ch):
    q = declare(ch)
    pub(ch, q, ["short"], expiration="100")
    pub(ch, q, ["long"], expiration="60000")
    time.sleep(0.3)
    # RabbitMQ expires messages at the head; "short" is at the head so it goes.
    assert bodies(get_all(ch, q)) == [b"long"]


@pytest.mark.ttl
def test_expiration_zero_without_consumer_expires(ch):
    q = declare(ch)
    pub(ch, q, ["zero"], expiration="0")
    pub(ch, q, ["kept"])
    time.sleep(0.1)
    assert bodies(get_all(ch, q)) == [b"kept"]


@pytest.mark.ttl
def test_lower_of_queue_and_message_ttl_applies(ch):
    q = declare(ch, **{"x-message-ttl": 100})
    pub(ch, q, ["m"], expiration="60000")
    wait_until(lambda: queue_count(ch, q) == 0, timeout=5, message="queue TTL wins")


@pytest.mark.ttl
def test_ttl_message_delivered_to_waiting_consumer(conn, ch):
    q = declare(ch, **{"x-message-ttl": 0})
    col = Collector(ch)
    ch.basic_consume(q, col, auto_ack=True)
    pub(ch, q, ["now"])
    pump(conn, lambda: col.messages, timeout=5, message="TTL 0 message delivered to a ready consumer")
    assert col.bodies == [b"now"]


@pytest.mark.ttl
def test_queue_expires_when_unused(conn, names):
    ch = conn.channel()
    q = names("exp")
    ch.queue_declare(q, arguments={"x-expires": 300})
    ch.queue_declare(q, passive=True)

    def gone():
        try:
            conn.channel().queue_declare(q, passive=True)
            return False
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404
            return True

    # A passive declare counts as "use" and restarts the expiry timer (RabbitMQ 3.10), so poll
    # less often than the 300 ms expiry.
    time.sleep(0.5)
    wait_until(gone, timeout=6, interval=0.6, message="x-expires queue deleted")


@pytest.mark.ttl
def test_queue_with_consumer_does_not_expire(conn, names):
    ch = conn.channel()
    q = names("exp2")
    ch.queue_declare(q, arguments={"x-expires": 200})
    ch.basic_consume(q, lambda *a: None)
    settle(conn, 0.6)
    conn.channel().queue_declare(q, passive=True)
    ch.queue_delete(q)


def check_x_death(headers, reason, queue, exchange, routing_keys, count=1):
    deaths = headers["x-death"]
    assert isinstance(deaths, list) and deaths
    d = deaths[0]
    assert d["reason"] == reason
    assert d["queue"] == queue
    assert d["exchange"] == exchange
    assert d["routing-keys"] == routing_keys
    assert d["count"] == count
    assert "time" in d
    assert headers["x-first-death-reason"] == reason
    assert headers["x-first-death-queue"] == queue
    assert headers["x-first-death-exchange"] == exchange


@pytest.mark.dlx
def test_dlx_rejected_with_routing_key(ch, names):
    dlx = names("dlx")
    ch.exchange_declare(dlx, "direct", auto_delete=True)
    dlq = declare(ch)
    ch.queue_bind(dlq, dlx, "dead")
    q = declare(ch, **{"x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": "dead"})
    pub(ch, q, ["r"], headers={"keep": "me"}, message_id="mid")
    m = ch.basic_get(q)
    ch.basic_reject(m[0].delivery_tag, requeue=False)
    wait_until(lambda: queue_count(ch, dlq) == 1)
    method, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"r" and props.message_id == "mid" and props.headers["keep"] == "me"
    assert method.exchange == dlx and method.routing_key == "dead"
    check_x_death(props.headers, "rejected", q, "", [q])


@pytest.mark.dlx
def test_dlx_keeps_original_routing_key_without_override(ch, names):
    dlx = names("dlx")
    ch.exchange_declare(dlx, "fanout", auto_delete=True)
    dlq = declare(ch)
    ch.queue_bind(dlq, dlx, "")
    src = names("srcx")
    ch.exchange_declare(src, "direct", auto_delete=True)
    q = declare(ch, **{"x-dead-letter-exchange": dlx})
    ch.queue_bind(q, src, "orig-key")
    pub(ch, "orig-key", ["n"], exchange=src)
    m = ch.basic_get(q)
    ch.basic_nack(m[0].delivery_tag, requeue=False)
    wait_until(lambda: queue_count(ch, dlq) == 1)
    method, props, _ = ch.basic_get(dlq, auto_ack=True)
    assert method.routing_key == "orig-key"
    check_x_death(props.headers, "rejected", q, src, ["orig-key"])


@pytest.mark.dlx
@pytest.mark.ttl
def test_dlx_expired(ch):
    dlq = declare(ch)
    q = declare(ch, **{"x-message-ttl": 50, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    pub(ch, q, ["e"])
    wait_until(lambda: queue_count(ch, dlq) == 1, timeout=5)
    _, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"e"
    check_x_death(props.headers, "expired", q, "", [q])
    # RabbitMQ 3.10 removes the per-message expiration when dead-lettering for TTL; the queue TTL
    # is recorded as original-expiration only for per-message TTL.


@pytest.mark.dlx
@pytest.mark.ttl
def test_dlx_per_message_expired_records_original_expiration(ch):
    dlq = declare(ch)
    q = declare(ch, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    pub(ch, q, ["pm"], expiration="50")
    wait_until(lambda: queue_count(ch, dlq) == 1, timeout=5)
    _, props, _ = ch.basic_get(dlq, auto_ack=True)
    assert props.expiration is None
    d = props.headers["x-death"][0]
    assert d["reason"] == "expired" and d["original-expiration"] == "50"


@pytest.mark.dlx
def test_dlx_maxlen_drop_head(ch):
    dlq = declare(ch)
    q = declare(ch, **{"x-max-length": 2, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    pub(ch, q, ["0", "1", "2", "3"])
    assert bodies(get_all(ch, q)) == [b"2", b"3"]
    wait_until(lambda: queue_count(ch, dlq) == 2)
    dead = get_all(ch, dlq)
    assert bodies(dead) == [b"0", b"1"]
    check_x_death(dead[0][1].headers, "maxlen", q, "", [q])


@pytest.mark.dlx
def test_x_death_count_increments(ch):
    dlq = declare(ch)
    q = declare(ch, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    pub(ch, q, ["cycle"])
    m = ch.basic_get(q)
    ch.basic_reject(m[0].delivery_tag, requeue=False)
    wait_until(lambda: queue_count(ch, dlq) == 1)
    _, props, body = ch.basic_get(dlq, auto_ack=True)
    # publish it back with the x-death headers it carries, and reject again
    pub(ch, q, [body], headers=props.headers)
    m = ch.basic_get(q)
    ch.basic_reject(m[0].delivery_tag, requeue=False)
    wait_until(lambda: queue_count(ch, dlq) == 1)
    _, props, _ = ch.basic_get(dlq, auto_ack=True)
    deaths = props.headers["x-death"]
    assert len(deaths) == 1 and deaths[0]["count"] == 2 and deaths[0]["reason"] == "rejected"


@pytest.mark.dlx
def test_dlx_to_missing_exchange_drops(ch, names):
    q = declare(ch, **{"x-dead-letter-exchange": names("missing")})
    pub(ch, q, ["x"])
    m = ch.basic_get(q)
    ch.basic_reject(m[0].delivery_tag, requeue=False)
    assert queue_count(ch, q) == 0  # dropped (RabbitMQ logs a warning), channel stays open


def test_max_length_drop_head(ch):
    q = declare(ch, **{"x-max-length": 3})
    pub(ch, q, [str(i) for i in range(6)])
    assert bodies(get_all(ch, q)) == [b"3", b"4", b"5"]


def test_max_length_zero(ch):
    q = declare(ch, **{"x-max-length": 0})
    pub(ch, q, ["a"])
    assert queue_count(ch, q) == 0


def test_max_length_bytes_drop_head(ch):
    q = declare(ch, **{"x-max-length-bytes": 10})
    pub(ch, q, ["aaaa", "bbbb", "cccc", "dddd"])  # only the body size counts
    assert bodies(get_all(ch, q)) == [b"cccc", b"dddd"]


def test_max_length_reject_publish(ch):
    q = declare(ch, **{"x-max-length": 2, "x-overflow": "reject-publish"})
    c = ch.connection.channel()
    c.confirm_delivery()
    c.basic_publish("", q, b"1")
    c.basic_publish("", q, b"2")
    with pytest.raises(pika.exceptions.NackError):
        c.basic_publish("", q, b"3")
    assert bodies(get_all(ch, q)) == [b"1", b"2"]
    c.basic_publish("", q, b"4")  # room again
    assert bodies(get_all(ch, q)) == [b"4"]


def test_max_length_bytes_reject_publish(ch):
    q = declare(ch, **{"x-max-length-bytes": 5, "x-overflow": "reject-publish"})
    c = ch.connection.channel()
    c.confirm_delivery()
    c.basic_publish("", q, b"12345")
    with pytest.raises(pika.exceptions.NackError):
        c.basic_publish("", q, b"6")
    assert queue_count(ch, q) == 1


def test_reject_publish_without_confirms_drops_silently(ch):
    q = declare(ch, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.basic_publish("", q, b"1")
    ch.basic_publish("", q, b"2")
    wait_until(lambda: queue_count(ch, q) == 1)
    settle(ch.connection, 0.1)
    assert bodies(get_all(ch, q)) == [b"1"]


@pytest.mark.priority
def test_max_priority_ordering(ch):
    q = declare(ch, **{"x-max-priority": 10})
    c = ch.connection.channel()
    c.confirm_delivery()
    for body, prio in [("p1", 1), ("p5a", 5), ("none", None), ("p9", 9), ("p5b", 5), ("p0", 0), ("p200", 200)]:
        c.basic_publish("", q, body.encode(), properties=pika.BasicProperties(priority=prio))
    got = bodies(get_all(ch, q))
    # priority above the maximum counts as the maximum; no priority counts as 0; FIFO within a level
    assert got == [b"p200", b"p9", b"p5a", b"p5b", b"p1", b"none", b"p0"] or \
        got == [b"p200", b"p9", b"p5a", b"p5b", b"p1", b"p0", b"none"]
    assert got.index(b"none") < got.index(b"p0")  # RabbitMQ 3.10: FIFO among priority 0


@pytest.mark.priority
def test_priority_ignored_without_max_priority(ch):
    q = declare(ch)
    pub(ch, q, ["low"], priority=1)
    pub(ch, q, ["high"], priority=9)
    assert bodies(get_all(ch, q)) == [b"low", b"high"]


def test_single_active_consumer(conn, ch, names):
    q = names("sac")
    ch.queue_declare(q, auto_delete=True, arguments={"x-single-active-consumer": True})
    c1, c2 = conn.channel(), conn.channel()
    a, b = Collector(c1, ack=True), Collector(c2, ack=True)
    t1 = c1.basic_consume(q, a)
    c2.basic_consume(q, b)
    pub(ch, q, ["1", "2", "3"])
    pump(conn, lambda: len(a.messages) == 3)
    settle(conn, 0.2)
    assert b.messages == []
    c1.basic_cancel(t1)
    pub(ch, q, ["4", "5"])
    pump(conn, lambda: len(b.messages) == 2)
    assert b.bodies == [b"4", b"5"] and len(a.messages) == 3


def test_single_active_consumer_failover_requeues_unacked(broker, conn, ch, names):
    from support import connect
    q = names("sac2")
    ch.queue_declare(q, arguments={"x-single-active-consumer": True})
    first = connect(broker)
    fc = first.channel()
    a = Collector(fc)  # never acks
    fc.basic_consume(q, a)
    c2 = conn.channel()
    b = Collector(c2, ack=True)
    c2.basic_consume(q, b)
    pub(ch, q, ["x", "y"])
    pump(first, lambda: len(a.messages) == 2)
    first.close()
    pump(conn, lambda: len(b.messages) == 2, timeout=5, message="failover to the second consumer")
    assert b.bodies == [b"x", b"y"]
    ch.queue_delete(q)


@pytest.mark.parametrize("args,text", [
    # observed RabbitMQ 3.10 texts (all 406 PRECONDITION_FAILED):
    ({"x-message-ttl": -1}, "invalid arg 'x-message-ttl'"),     # {value_negative,-1}
    ({"x-message-ttl": "abc"}, "invalid arg 'x-message-ttl'"),  # {unacceptable_type,longstr}
    ({"x-expires": 0}, "invalid arg 'x-expires'"),              # {value_zero,0}
    ({"x-max-length": -1}, "invalid arg 'x-max-length'"),
    ({"x-max-length-bytes": "big"}, "invalid arg 'x-max-length-bytes'"),
    ({"x-overflow": "bogus"}, "invalid arg 'x-overflow'"),
    ({"x-max-priority": -1}, "invalid arg 'x-max-priority'"),
    ({"x-max-priority": 256}, "invalid arg 'x-max-priority'"),
    ({"x-dead-letter-routing-key": "rk"}, "invalid arg 'x-dead-letter-routing-key'"),  # needs a DLX
    ({"x-single-active-consumer": "yes"}, "invalid arg 'x-single-active-consumer'"),
])
def test_invalid_queue_args_are_406(conn, args, text):
    ch = conn.channel()
    e = expect_channel_close(406, lambda: ch.queue_declare("", exclusive=True, arguments=args))
    assert text in e.reply_text, e.reply_text
