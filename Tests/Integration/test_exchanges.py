"""Exchange types, routing, exchange-to-exchange bindings and alternate exchanges."""

from __future__ import annotations

import pytest

from support import expect_channel_close

pytestmark = pytest.mark.exchanges


def bound_queue(ch, exchange, routing_key="", arguments=None):
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, exchange, routing_key, arguments=arguments)
    return q


def drain(ch, q):
    """All messages currently in q, in order (basic.get until get-empty)."""
    out = []
    while True:
        m, props, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append(body)


def publish_confirmed(ch, exchange, rk, body, **kw):
    ch.basic_publish(exchange, rk, body, **kw)


@pytest.fixture
def cch(ch):
    """A channel in confirm mode: basic_publish returns after the broker confirmed (and routed)."""
    ch.confirm_delivery()
    return ch


def test_default_exchange_routes_by_queue_name(cch, names):
    q = names("q")
    cch.queue_declare(q, auto_delete=False)
    cch.basic_publish("", q, b"m")
    assert drain(cch, q) == [b"m"]
    cch.queue_delete(q)


def test_direct(cch, names):
    x = names("direct")
    cch.exchange_declare(x, "direct", auto_delete=True)
    qa, qb = bound_queue(cch, x, "a"), bound_queue(cch, x, "b")
    cch.queue_bind(qb, x, "a")  # qb bound twice
    for rk in ("a", "b", "c"):
        cch.basic_publish(x, rk, rk.encode())
    assert drain(cch, qa) == [b"a"]
    assert drain(cch, qb) == [b"a", b"b"]


def test_fanout_ignores_routing_key(cch, names):
    x = names("fanout")
    cch.exchange_declare(x, "fanout", auto_delete=True)
    qs = [bound_queue(cch, x, rk) for rk in ("", "x", "y")]
    cch.basic_publish(x, "anything", b"f")
    for q in qs:
        assert drain(cch, q) == [b"f"]


@pytest.mark.parametrize("pattern,matches,nonmatches", [
    ("*.orange.*", ["quick.orange.rabbit", "a.orange.b"], ["orange", "quick.orange", "a.b.orange.c"]),
    ("*.*.rabbit", ["quick.orange.rabbit"], ["quick.rabbit", "a.b.c.rabbit"]),
    ("lazy.#", ["lazy", "lazy.a", "lazy.a.b.c"], ["lazyx", "a.lazy"]),
    ("#", ["", "a", "a.b.c"], []),
    ("#.end", ["end", "a.end", "a.b.end"], ["end.a"]),
    ("a.#.z", ["a.z", "a.b.z", "a.b.c.z"], ["a", "z", "a.b"]),
    ("exact.key", ["exact.key"], ["exact", "exact.key.more"]),
    ("*", ["word"], ["", "two.words"]),
])
def test_topic_patterns(cch, names, pattern, matches, nonmatches):
    x = names("topic")
    cch.exchange_declare(x, "topic", auto_delete=True)
    q = bound_queue(cch, x, pattern)
    for rk in matches + nonmatches:
        cch.basic_publish(x, rk, rk.encode() or b"<empty>")
    assert drain(cch, q) == [rk.encode() or b"<empty>" for rk in matches]


HEADER_CASES = [
    # (binding args, message headers, should match)
    ({"x-match": "all", "a": 1, "b": "x"}, {"a": 1, "b": "x", "c": 3}, True),
    ({"x-match": "all", "a": 1, "b": "x"}, {"a": 1}, False),
    ({"a": 1, "b": "x"}, {"a": 1, "b": "y"}, False),  # default x-match is all
    ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, True),
    ({"x-match": "any", "a": 1, "b": "x"}, {"a": 2, "b": "x"}, True),
    ({"x-match": "any", "a": 1, "b": "x"}, {"a": 2, "b": "y"}, False),
    ({"x-match": "any", "a": 1}, {}, False),
    ({"x-match": "all"}, {"whatever": 1}, True),  # no keys: all matches everything
    # plain all/any ignore message headers starting with x-; the -with-x variants do not.
    ({"x-match": "all", "x-k": "v"}, {"x-k": "v"}, True),  # binding x-* args are ignored by all
    ({"x-match": "any", "x-k": "v"}, {"x-k": "v"}, False),
    ({"x-match": "any-with-x", "x-k": "v"}, {"x-k": "v"}, True),
    ({"x-match": "all-with-x", "x-k": "v", "a": 1}, {"x-k": "v", "a": 1}, True),
    ({"x-match": "all-with-x", "x-k": "v", "a": 1}, {"a": 1}, False),
    ({"x-match": "all", "a": None}, {"a": None}, True),  # void matches by presence
]


@pytest.mark.parametrize("binding,headers,match", HEADER_CASES)
def test_headers_exchange(cch, names, binding, headers, match):
    x = names("headers")
    cch.exchange_declare(x, "headers", auto_delete=True)
    q = bound_queue(cch, x, "", arguments=binding)
    import pika
    cch.basic_publish(x, "", b"h", properties=pika.BasicProperties(headers=headers))
    assert drain(cch, q) == ([b"h"] if match else [])


def test_predeclared_amq_exchanges(ch):
    for name, typ in [("amq.direct", "direct"), ("amq.fanout", "fanout"), ("amq.topic", "topic"),
                      ("amq.headers", "headers"), ("amq.match", "headers")]:
        ch.exchange_declare(name, typ, passive=True)
        ch.exchange_declare(name, typ, durable=True)  # equivalent redeclare is fine


def test_declare_amq_prefix_is_403(conn):
    ch = conn.channel()
    # RabbitMQ 3.10: 403 "ACCESS_REFUSED - exchange name 'amq.itest' contains reserved prefix 'amq.*'"
    expect_channel_close(403, lambda: ch.exchange_declare("amq.itest", "direct"), "ACCESS_REFUSED")


def test_passive_declare_missing_is_404(conn, names):
    ch = conn.channel()
    x = names("missing")
    # RabbitMQ 3.10: 404 "NOT_FOUND - no exchange 'itest...' in vhost '/'"
    expect_channel_close(404, lambda: ch.exchange_declare(x, "direct", passive=True), "NOT_FOUND")


def test_redeclare_with_other_type_is_406(conn, names):
    ch = conn.channel()
    x = names("x")
    ch.exchange_declare(x, "direct", auto_delete=True)
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '...' in vhost '/':
    # received 'fanout' but current is 'direct'"
    expect_channel_close(406, lambda: ch.exchange_declare(x, "fanout", auto_delete=True), "PRECONDITION_FAILED")
    ch = conn.channel()
    expect_channel_close(406, lambda: ch.exchange_declare(x, "direct", durable=True, auto_delete=True))
    conn.channel().exchange_delete(x)


def test_declare_unknown_type_is_503(conn, names):
    ch = conn.channel()
    # RabbitMQ 3.10: connection-level 503 "COMMAND_INVALID - unknown exchange type 'nonsense'"
    import pika
    with pytest.raises((pika.exceptions.ConnectionClosedByBroker, pika.exceptions.ChannelClosedByBroker)) as ei:
        ch.exchange_declare(names("x"), "nonsense")
    assert ei.value.reply_code == 503


def test_delete_if_unused(conn, names):
    ch = conn.channel()
    x = names("x")
    ch.exchange_declare(x, "fanout")
    q = bound_queue(ch, x)
    # RabbitMQ 3.10: 406 "PRECONDITION_FAILED - exchange '...' in vhost '/' in use"
    expect_channel_close(406, lambda: ch.exchange_delete(x, if_unused=True), "PRECONDITION_FAILED")
    ch = conn.channel()
    ch.queue_unbind(q, x, "")
    ch.exchange_delete(x, if_unused=True)
    expect_channel_close(404, lambda: ch.exchange_declare(x, "fanout", passive=True))


def test_delete_missing_exchange_is_ok(ch, names):
    # RabbitMQ 3.10: exchange.delete of a missing exchange answers delete-ok.
    ch.exchange_delete(names("never"))


def test_exchange_to_exchange_bind_and_unbind(cch, names):
    src, dst = names("src"), names("dst")
    cch.exchange_declare(src, "topic")
    cch.exchange_declare(dst, "direct", auto_delete=True)
    q = bound_queue(cch, dst, "k")
    cch.exchange_bind(destination=dst, source=src, routing_key="k")
    cch.basic_publish(src, "k", b"via-e2e")
    cch.basic_publish(src, "other", b"not-routed")
    assert drain(cch, q) == [b"via-e2e"]
    cch.exchange_unbind(destination=dst, source=src, routing_key="k")
    cch.basic_publish(src, "k", b"after-unbind")
    assert drain(cch, q) == []
    cch.exchange_delete(src)


def test_exchange_bind_cycle_delivers_once(cch, names):
    a, b = names("a"), names("b")
    cch.exchange_declare(a, "fanout", auto_delete=True)
    cch.exchange_declare(b, "fanout", auto_delete=True)
    q = bound_queue(cch, a)
    cch.queue_bind(q, b)
    cch.exchange_bind(destination=b, source=a)
    cch.exchange_bind(destination=a, source=b)
    cch.basic_publish(a, "", b"once")
    assert drain(cch, q) == [b"once"]


def test_alternate_exchange(cch, names):
    x, ae = names("x"), names("ae")
    cch.exchange_declare(ae, "fanout", auto_delete=True)
    cch.exchange_declare(x, "direct", auto_delete=True, arguments={"alternate-exchange": ae})
    routed = bound_queue(cch, x, "known")
    unrouted = bound_queue(cch, ae)
    cch.basic_publish(x, "known", b"1")
    cch.basic_publish(x, "unknown", b"2")
    assert drain(cch, routed) == [b"1"]
    assert drain(cch, unrouted) == [b"2"]


def test_alternate_exchange_avoids_basic_return(conn, names):
    ch = conn.channel()
    ch.confirm_delivery()
    x, ae = names("x"), names("ae")
    ch.exchange_declare(ae, "fanout", auto_delete=True)
    ch.exchange_declare(x, "direct", auto_delete=True, arguments={"alternate-exchange": ae})
    q = bound_queue(ch, ae)
    ch.basic_publish(x, "nowhere", b"m", mandatory=True)  # would raise UnroutableError if returned
    assert drain(ch, q) == [b"m"]


def test_bind_to_default_exchange_is_403(conn, names):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    # RabbitMQ 3.10: 403 "ACCESS_REFUSED - operation not permitted on the default exchange"
    expect_channel_close(403, lambda: ch.queue_bind(q, "", "rk"), "ACCESS_REFUSED")
    ch = conn.channel()
    expect_channel_close(403, lambda: ch.queue_unbind(q, "", q), "ACCESS_REFUSED")


def test_delete_default_exchange_is_403(conn):
    ch = conn.channel()
    # RabbitMQ 3.10: 403 "ACCESS_REFUSED - operation not permitted on the default exchange"
    expect_channel_close(403, lambda: ch.exchange_delete(""), "ACCESS_REFUSED")


def test_delete_amq_exchange_is_403(conn):
    ch = conn.channel()
    # RabbitMQ 3.10: 403 "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed"
    expect_channel_close(403, lambda: ch.exchange_delete("amq.direct"), "ACCESS_REFUSED")
    conn.channel().exchange_declare("amq.direct", "direct", passive=True)


def test_auto_delete_exchange_goes_with_last_binding(conn, names):
    ch = conn.channel()
    x = names("ad")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    q = bound_queue(ch, x)
    ch.exchange_declare(x, "fanout", passive=True)
    ch.queue_unbind(q, x, "")
    expect_channel_close(404, lambda: ch.exchange_declare(x, "fanout", passive=True))


def test_bind_to_missing_exchange_or_queue_is_404(conn, names):
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    # RabbitMQ 3.10: 404 "NOT_FOUND - no exchange '...' in vhost '/'"
    expect_channel_close(404, lambda: ch.queue_bind(q, names("nox"), "k"))
    ch = conn.channel()
    # RabbitMQ 3.10: 404 "NOT_FOUND - no queue '...' in vhost '/'"
    expect_channel_close(404, lambda: ch.queue_bind(names("noq"), "amq.direct", "k"))


def test_internal_exchange_rejects_publish(conn, names):
    ch = conn.channel()
    x = names("internal")
    ch.exchange_declare(x, "fanout", internal=True, auto_delete=True)
    ch.basic_publish(x, "", b"nope")
    # RabbitMQ 3.10: 403 "ACCESS_REFUSED - cannot publish to internal exchange '...' in vhost '/'"
    expect_channel_close(403, lambda: ch.queue_declare("", exclusive=True))
