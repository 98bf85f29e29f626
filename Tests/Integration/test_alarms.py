"""Resource alarms: connection.blocked to clients that announce the capability, publishers not read
(so no confirms) while an alarm is on. The memory alarm is forced with an absolute high watermark
below the broker's own footprint."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from amqp_raw import RawConnection
from servers import AopServer
from support import target


@pytest.mark.skipif(target() != "aop", reason="starts aop-server with its own configuration")
def test_memory_alarm_blocks_publishers():
    with tempfile.TemporaryDirectory() as d:
        conf = Path(d) / "aop.conf"
        conf.write_text("vm_memory_high_watermark.absolute = 1048576\n")  # 1 MiB: always exceeded
        srv = AopServer(extra_args=["--config", str(conf)])
        srv.start()
        try:
            c = RawConnection("127.0.0.1", srv.port)
            props = {"product": "itest", "capabilities": {"connection.blocked": True, "publisher_confirms": True}}
            c.start(client_properties=props)
            tune = c.expect("connection.tune")
            c.send_method(0, "connection.tune-ok", channel_max=tune.args["channel_max"],
                          frame_max=tune.args["frame_max"], heartbeat=0)
            c.send_method(0, "connection.open", virtual_host="/")
            c.expect("connection.open-ok")
            # The monitor samples once a second; the notification comes right after open or then.
            blocked = c.expect("connection.blocked", 0, timeout=5)
            assert "memory" in blocked.args["reason"]
            c.open_channel(1)
            c.call(1, "confirm.select", "confirm.select-ok", nowait=False)
            c.call(1, "queue.declare", "queue.declare-ok", queue="alarm-q")
            c.publish(1, "", "alarm-q", b"first")
            time.sleep(0.5)  # the first publish marks the connection as a publisher: it is then not read
            c.publish(1, "", "alarm-q", b"second")
            # A blocked publisher is not read: the confirm for the second publish must not arrive.
            acked = 0
            try:
                while True:
                    f = c.next_method(timeout=2)
                    if f.method == "basic.ack":
                        acked = f.args["delivery_tag"]
            except TimeoutError:
                pass
            assert acked < 2, "publishes were confirmed while the memory alarm was on"
            c.close_socket()
        finally:
            srv.stop()
            srv.cleanup()
