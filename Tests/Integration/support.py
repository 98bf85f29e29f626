"""Helpers shared by the integration tests (client connections, names, waiting)."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from typing import Any, Callable

import pika
import pytest

_counter = itertools.count(1)
RUN_ID = uuid.uuid4().hex[:6]


def uniq(prefix: str = "t") -> str:
    """A name no other test (or earlier run against the same server) uses."""
    return f"itest.{prefix}.{RUN_ID}.{next(_counter)}"


def params(broker, **kw: Any) -> pika.ConnectionParameters:
    kw.setdefault("connection_attempts", 1)
    kw.setdefault("socket_timeout", 5)
    kw.setdefault("stack_timeout", 10)
    kw.setdefault("blocked_connection_timeout", 30)
    return pika.ConnectionParameters(host=broker.host, port=broker.port, **kw)


def connect(broker, **kw: Any) -> pika.BlockingConnection:
    return pika.BlockingConnection(params(broker, **kw))


def amqp_url(broker, user: str = "guest", password: str = "guest", vhost: str = "%2F") -> str:
    return f"amqp://{user}:{password}@{broker.host}:{broker.port}/{vhost}"


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Collector:
    """A pika consumer callback that records deliveries (optionally acking them)."""

    def __init__(self, ch, ack: bool = False):
        self.ch = ch
        self.ack = ack
        self.messages: list[tuple[Any, Any, bytes]] = []

    def __call__(self, ch, method, props, body) -> None:
        self.messages.append((method, props, body))
        if self.ack:
            ch.basic_ack(method.delivery_tag)

    @property
    def bodies(self) -> list[bytes]:
        return [m[2] for m in self.messages]


def pump(conn: pika.BlockingConnection, until: Callable[[], bool], timeout: float = 5.0,
         message: str = "deliveries") -> None:
    """Process I/O on a blocking connection until `until()` holds (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        conn.process_data_events(time_limit=0.02)


def settle(conn: pika.BlockingConnection, seconds: float = 0.2) -> None:
    """Process I/O for a short while (used to prove that *nothing* more arrives)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.process_data_events(time_limit=0.02)


def queue_count(ch, queue: str) -> int:
    return ch.queue_declare(queue, passive=True).method.message_count


def consumer_count(ch, queue: str) -> int:
    return ch.queue_declare(queue, passive=True).method.consumer_count


def expect_channel_close(code: int, fn: Callable[[], Any], text_contains: str | None = None):
    """Run `fn` and require the broker to close the channel with `code`."""
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        fn()
    assert ei.value.reply_code == code, f"expected {code}, got {ei.value.reply_code} {ei.value.reply_text}"
    if text_contains is not None:
        assert text_contains in ei.value.reply_text, ei.value.reply_text
    return ei.value


def target() -> str:
    return os.environ.get("AOP_TEST_TARGET", "aop")
