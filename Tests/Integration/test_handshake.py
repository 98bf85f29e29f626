"""Connection negotiation, channels, heartbeats, auth and close with real client libraries."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import aio_pika
import amqp
import pika
import pytest

from support import amqp_url, connect, params, pump, settle

pytestmark = pytest.mark.handshake


def test_pika_connect_and_close(broker):
    c = connect(broker)
    assert c.is_open
    ch = c.channel()
    assert ch.is_open
    ch.close()
    c.close()
    assert c.is_closed


def test_pika_server_properties(broker):
    c = connect(broker)
    caps = c._impl.server_properties["capabilities"]
    assert caps["publisher_confirms"] and caps["basic.nack"] and caps["consumer_cancel_notify"]
    c.close()


def test_aio_pika_connect_publish_get(broker, names):
    q = names("aio")

    async def main():
        conn = await aio_pika.connect_robust(host=broker.host, port=broker.port, login="guest", password="guest",
                                             timeout=10)
        async with conn:
            ch = await conn.channel()
            queue = await ch.declare_queue(q, auto_delete=True)
            await ch.default_exchange.publish(aio_pika.Message(b"hello aio"), routing_key=q)
            msg = None
            for _ in range(100):
                msg = await queue.get(fail=False, no_ack=True)
                if msg:
                    break
                await asyncio.sleep(0.02)
            assert msg is not None and msg.body == b"hello aio"
            await queue.delete()

    asyncio.run(asyncio.wait_for(main(), 20))


def test_py_amqp_connect_publish_get(broker, names):
    q = names("pyamqp")
    c = amqp.Connection(host=f"{broker.host}:{broker.port}", userid="guest", password="guest",
                        connect_timeout=5, read_timeout=5, write_timeout=5)
    c.connect()
    ch = c.channel()
    ch.queue_declare(q, auto_delete=False)
    ch.basic_publish(amqp.Message(b"hello py-amqp", content_type="text/plain"), exchange="", routing_key=q)
    msg = None
    deadline = time.monotonic() + 5
    while msg is None and time.monotonic() < deadline:
        msg = ch.basic_get(q, no_ack=True)
    assert msg is not None and msg.body == b"hello py-amqp"
    assert msg.properties["content_type"] == "text/plain"
    ch.queue_delete(q)
    ch.close()
    c.close()


@pytest.mark.amqp_tools
def test_amqp_tools_declare_publish_get_consume(broker, names):
    for tool in ("amqp-declare-queue", "amqp-publish", "amqp-get", "amqp-consume", "amqp-delete-queue"):
        assert shutil.which(tool), f"{tool} missing (apt-get install amqp-tools)"
    q = names("tools")
    url = amqp_url(broker)
    run = lambda *a, **kw: subprocess.run(a, capture_output=True, timeout=15, **kw)  # noqa: E731
    r = run("amqp-declare-queue", "-u", url, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == q
    for body in (b"one", b"two"):
        r = run("amqp-publish", "-u", url, "-r", q, "-b", body.decode())
        assert r.returncode == 0, r.stderr
    r = run("amqp-get", "-u", url, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"one"
    r = run("amqp-consume", "-u", url, "-q", q, "-c", "1", "cat")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"two"
    r = run("amqp-get", "-u", url, "-q", q)
    assert r.returncode != 0  # empty queue: amqp-get exits non-zero ("No message")
    r = run("amqp-delete-queue", "-u", url, "-q", q)
    assert r.returncode == 0, r.stderr


def test_two_thousand_channels_on_one_connection(broker):
    c = connect(broker)
    channels = [c.channel() for _ in range(2000)]
    assert len({ch.channel_number for ch in channels}) == 2000
    assert all(ch.is_open for ch in channels)
    # every channel is usable
    for ch in channels[::250]:
        ch.basic_qos(prefetch_count=1)
    for ch in channels:
        ch.close()
    assert all(ch.is_closed for ch in channels)
    # and the connection still works afterwards
    ch = c.channel()
    ch.queue_declare("", exclusive=True)
    c.close()


@pytest.mark.slow
def test_idle_heartbeat_keeps_connection_alive(broker, names):
    c = connect(broker, heartbeat=1)
    ch = c.channel()
    settle(c, 10.0)  # 10 s idle; pika answers heartbeats while processing I/O
    assert c.is_open
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"still here")
    m = None
    deadline = time.monotonic() + 5
    while m is None or m[0] is None:
        m = ch.basic_get(q, auto_ack=True)
        assert time.monotonic() < deadline
    assert m[2] == b"still here"
    c.close()


def test_heartbeat_negotiation(broker):
    c = connect(broker, heartbeat=2)
    assert c._impl.params.heartbeat == 2
    c.close()


def test_client_initiated_close_with_open_channels(broker):
    c = connect(broker)
    chs = [c.channel() for _ in range(5)]
    for ch in chs:
        ch.queue_declare("", exclusive=True)
    c.close()
    assert c.is_closed
    c2 = connect(broker)  # server still fine
    c2.close()


def test_bad_credentials_pika(broker):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        connect(broker, credentials=pika.PlainCredentials("guest", "nope"))
    # pika wraps the broker's close: "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was
    # refused using authentication mechanism PLAIN. For details see the broker logfile.'"
    assert "(403)" in str(ei.value) and "ACCESS_REFUSED" in str(ei.value), str(ei.value)


def test_unknown_user_pika(broker):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        connect(broker, credentials=pika.PlainCredentials("nobody", "x"))
    assert "(403)" in str(ei.value), str(ei.value)


def test_bad_credentials_py_amqp(broker):
    c = amqp.Connection(host=f"{broker.host}:{broker.port}", userid="guest", password="nope",
                        connect_timeout=5, read_timeout=5)
    with pytest.raises(amqp.exceptions.AccessRefused) as ei:
        c.connect()
    assert ei.value.reply_code == 403


def test_bad_credentials_aio_pika(broker):
    async def main():
        await aio_pika.connect(host=broker.host, port=broker.port, login="guest", password="nope", timeout=10)

    with pytest.raises(Exception) as ei:
        asyncio.run(asyncio.wait_for(main(), 20))
    assert "ACCESS_REFUSED" in repr(ei.value) or "403" in repr(ei.value), repr(ei.value)


def test_unknown_vhost_pika(broker):
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        connect(broker, virtual_host="no-such-vhost")
    # RabbitMQ 3.10: "ConnectionClosedByBroker: (530) 'NOT_ALLOWED - vhost no-such-vhost not found'"
    assert "(530)" in str(ei.value), str(ei.value)


def test_unknown_vhost_py_amqp(broker):
    c = amqp.Connection(host=f"{broker.host}:{broker.port}", userid="guest", password="guest",
                        virtual_host="no-such-vhost", connect_timeout=5, read_timeout=5)
    with pytest.raises(amqp.exceptions.NotAllowed) as ei:
        c.connect()
    assert ei.value.reply_code == 530


def test_channel_close_then_reuse_connection(broker):
    c = connect(broker)
    ch = c.channel()
    ch.close()
    ch2 = c.channel()
    ch2.queue_declare("", exclusive=True)
    c.close()


@pytest.mark.fresh_server
@pytest.mark.slow
def test_sigterm_closes_clients_with_320(fresh_broker):
    from amqp_raw import RawConnection
    c = connect(fresh_broker)
    ch = c.channel()
    ch.queue_declare("", exclusive=True)
    raw = RawConnection(fresh_broker.host, fresh_broker.port)
    raw.handshake()
    raw.open_channel(1)
    fresh_broker.sigterm()
    close = raw.expect("connection.close", 0, timeout=30)
    assert close.args["reply_code"] == 320
    # RabbitMQ 3.10 closes the socket right after sending close on shutdown (a close-ok from the
    # client may meet a reset); either way the socket must be closed promptly.
    try:
        raw.send_method(0, "connection.close-ok")
        raw.read_until_closed(10)
    except OSError:
        pass
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        pump(c, lambda: False, timeout=30, message="connection.close from the server")
    # RabbitMQ 3.10: (320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'")
    assert ei.value.reply_code == 320
    assert fresh_broker.wait(timeout=60) == 0
