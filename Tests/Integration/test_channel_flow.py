"""channel.flow from the client: active=false pauses deliveries to the channel, active=true resumes them.

aop follows the 0-9-1 spec here; RabbitMQ 3.10 answers active=false with 540 NOT_IMPLEMENTED (checked
below when the suite runs against RabbitMQ), so no RabbitMQ client relies on it either way."""

from __future__ import annotations

import pytest

from amqp_raw import RawConnection


def test_channel_flow_pauses_and_resumes_deliveries(broker, names):
    q = names("flow")
    c = RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    c.call(1, "queue.declare", "queue.declare-ok", queue=q, exclusive=True)
    c.call(1, "basic.consume", "basic.consume-ok", queue=q, consumer_tag="flow", no_ack=True)
    c.send_method(1, "channel.flow", active=False)
    f = c.next_method(timeout=5)
    if broker.kind == "rabbitmq":
        # RabbitMQ 3.10 does not implement client-side flow control: connection.close
        # 540 "NOT_IMPLEMENTED - active=false". aop implements the spec (pause deliveries).
        assert f.method == "connection.close" and f.args["reply_code"] == 540, f
        return
    assert f.method == "channel.flow-ok" and f.args["active"] is False, f
    c.open_channel(2)
    c.publish(2, "", q, b"held")
    with pytest.raises(TimeoutError):
        c.next_method(timeout=1.0)  # nothing delivered while flow is off
    c.send_method(1, "channel.flow", active=True)
    f = c.next_method(timeout=5)
    assert f.method == "channel.flow-ok" and f.args["active"] is True, f
    d = c.expect("basic.deliver", 1, timeout=5)
    assert c.read_content(d).body == b"held"
    c.close()
