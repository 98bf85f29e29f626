"""Crash safety: kill -9 a real server during confirmed publishing and during consumption.

Every cycle restarts the server on the same data dir, runs two confirm-mode publishers (raw frames, a
window of unconfirmed publishes each, a unique message_id per message) against a durable queue, kills
the server (SIGKILL) at a seeded random moment, restarts it and drains the queue. Checked:
  - every message whose basic.ack arrived is delivered after the restart (at least once);
  - nothing is delivered that was never published, and no body is corrupted (the body is a function
    of the message_id);
  - a message appears twice only if one of the copies is flagged redelivered.
The consumption cycles kill the server while a consumer acks manually and check that every message
that was confirmed and not acked is delivered again.

AOP_CRASH_CYCLES (default 20) sets the number of publish-kill cycles; AOP_CRASH_SEED fixes the seed.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time

import pytest

from amqp_raw import FRAME_HEADER, FRAME_METHOD, Closed, RawConnection
from servers import AopServer
from support import target

pytestmark = [pytest.mark.restart, pytest.mark.fresh_server, pytest.mark.slow]

QUEUE = "crash.q"
WINDOW = 64


def body_for(mid: str) -> bytes:
    """The body is a pure function of the id: any corruption or mix-up shows."""
    digest = hashlib.sha256(mid.encode()).digest()
    size = 16 + digest[0] * 8  # 16 .. 2056 bytes
    return (mid.encode() + b"|" + digest * (size // 32 + 1))[:max(size, len(mid) + 1)]


class Publisher(threading.Thread):
    """One connection in confirm mode publishing persistent messages with a window of WINDOW."""

    def __init__(self, port: int, prefix: str):
        super().__init__(daemon=True)
        self.port = port
        self.prefix = prefix
        self.sent: dict[int, str] = {}          # delivery tag -> message id (sent or being sent)
        self.confirmed: set[str] = set()
        self.nacked: set[str] = set()
        self.lock = threading.Condition()
        self.outstanding = 0
        self.unsettled: set[int] = set()
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            self.conn = RawConnection("127.0.0.1", self.port, timeout=10)
            self.conn.handshake()
            self.conn.open_channel(1)
            self.conn.call(1, "confirm.select", "confirm.select-ok", nowait=False)
        except BaseException as e:  # noqa: BLE001 - the server may be killed during setup
            self.error = e
            self.ready.set()
            return
        self.ready.set()
        reader = threading.Thread(target=self.read_loop, daemon=True)
        reader.start()
        tag = 0
        try:
            while True:
                with self.lock:
                    while self.outstanding >= WINDOW and not self.error:
                        self.lock.wait(0.5)
                    if self.error:
                        return
                    tag += 1
                    mid = f"{self.prefix}-{tag}"
                    self.sent[tag] = mid
                    self.unsettled.add(tag)
                    self.outstanding += 1
                self.conn.publish(1, "", QUEUE, body_for(mid), props={"delivery_mode": 2, "message_id": mid})
        except (OSError, Closed) as e:
            with self.lock:
                self.error = self.error or e

    def read_loop(self) -> None:
        try:
            while True:
                f = self.conn.next_method(timeout=60)
                if f.type != FRAME_METHOD or f.method not in ("basic.ack", "basic.nack"):
                    raise AssertionError(f"unexpected frame from the server: {f!r}")
                t, multiple = f.args["delivery_tag"], f.args["multiple"]
                with self.lock:
                    tags = [x for x in self.unsettled if x <= t] if multiple else [t]
                    for x in tags:
                        self.unsettled.discard(x)
                        mid = self.sent[x]
                        (self.confirmed if f.method == "basic.ack" else self.nacked).add(mid)
                        self.outstanding -= 1
                    self.lock.notify_all()
        except (OSError, Closed, TimeoutError) as e:
            with self.lock:
                self.error = self.error or e
                self.lock.notify_all()
        except BaseException as e:  # noqa: BLE001
            with self.lock:
                self.error = e
                self.lock.notify_all()


def setup_queue(port: int) -> None:
    c = RawConnection("127.0.0.1", port)
    c.handshake()
    c.open_channel(1)
    c.call(1, "queue.declare", "queue.declare-ok", queue=QUEUE, durable=True)
    c.close()


def consume(port: int, ack_limit: int | None = None, kill=None) -> tuple[list[tuple[str, bool, bytes]], set[str], bool]:
    """Consumes QUEUE with manual acks until it is empty. Returns (deliveries as (id, redelivered, body),
    ids acked, killed). With `kill`, calls it after `ack_limit` acks (the connection then dies)."""
    c = RawConnection("127.0.0.1", port, timeout=10)
    c.handshake()
    c.open_channel(1)
    c.call(1, "basic.qos", "basic.qos-ok", prefetch_count=200)
    ok = c.call(1, "queue.declare", "queue.declare-ok", queue=QUEUE, durable=True)
    expected = ok.args["message_count"]
    c.call(1, "basic.consume", "basic.consume-ok", queue=QUEUE, consumer_tag="drain")
    out: list[tuple[str, bool, bytes]] = []
    acked: set[str] = set()
    try:
        while True:
            try:
                f = c.next_method(timeout=0.5 if len(out) >= expected else 30)
            except TimeoutError:
                break
            assert f.method == "basic.deliver", f
            m = c.read_content(f)
            mid = m.properties().get("message_id")
            out.append((mid, bool(f.args["redelivered"]), m.body))
            if ack_limit is not None and len(acked) >= ack_limit:
                kill()
                return out, acked, True
            c.send_method(1, "basic.ack", delivery_tag=f.args["delivery_tag"], multiple=False)
            acked.add(mid)
    except (Closed, OSError):
        return out, acked, True
    c.close()
    return out, acked, False


def check_deliveries(deliveries, published: set[str], confirmed: set[str], delivered_before: set[str],
                     context: str) -> dict[str, int]:
    ids = [d[0] for d in deliveries]
    seen: dict[str, int] = {}
    problems: list[str] = []
    for mid, redelivered, body in deliveries:
        if mid not in published:
            problems.append(f"never published: {mid!r}")
            continue
        if body != body_for(mid):
            problems.append(f"corrupted body for {mid} ({len(body)} bytes)")
        seen[mid] = seen.get(mid, 0) + 1
        if seen[mid] > 1 and not redelivered:
            problems.append(f"duplicate {mid} without the redelivered flag")
    lost = confirmed - set(ids)
    if lost:
        problems.append(f"{len(lost)} confirmed messages lost, e.g. {sorted(lost)[:5]}")
    unflagged = [d[0] for d in deliveries if d[0] in delivered_before and not d[1]]
    stats = {"delivered": len(ids), "unique": len(seen), "confirmed": len(confirmed),
             "redelivered_unflagged": len(unflagged)}
    assert not problems, f"{context}: {problems[:10]} stats={stats}"
    return stats


CYCLES = int(os.environ.get("AOP_CRASH_CYCLES", "20"))


@pytest.mark.skipif(target() != "aop", reason="kills the server process")
@pytest.mark.timeout(60 + CYCLES * 10)
def test_kill9_during_confirmed_publishing():
    cycles = CYCLES
    seed = int(os.environ.get("AOP_CRASH_SEED", str(int(time.time()))))
    print(f"AOP_CRASH_SEED={seed} AOP_CRASH_CYCLES={cycles}")
    rng = random.Random(seed)
    srv = AopServer()
    totals = {"confirmed": 0, "unconfirmed_present": 0, "unconfirmed_absent": 0}
    try:
        srv.start()
        setup_queue(srv.port)
        for cycle in range(cycles):
            pubs = [Publisher(srv.port, f"c{cycle}p{i}") for i in range(2)]
            for p in pubs:
                p.start()
            for p in pubs:
                p.ready.wait(10)
            time.sleep(rng.uniform(0.05, 1.5))
            srv.kill()
            for p in pubs:
                p.join(15)
                assert not p.is_alive(), "publisher did not stop after the kill"
                if p.error is not None and not isinstance(p.error, (OSError, Closed, TimeoutError)):
                    raise AssertionError(f"cycle {cycle}: publisher failed: {p.error!r}")
            published = {mid for p in pubs for mid in p.sent.values()}
            confirmed = {mid for p in pubs for mid in p.confirmed}
            srv.start()
            deliveries, _, _ = consume(srv.port)
            stats = check_deliveries(deliveries, published, confirmed, set(), f"cycle {cycle} (seed {seed})")
            present = {d[0] for d in deliveries}
            totals["confirmed"] += len(confirmed)
            totals["unconfirmed_present"] += len((published - confirmed) & present)
            totals["unconfirmed_absent"] += len((published - confirmed) - present)
            print(f"cycle {cycle}: published {len(published)} confirmed {len(confirmed)} "
                  f"delivered {stats['delivered']}")
        print(f"totals: {totals}")
    except BaseException:
        print(srv.log_tail(40))
        raise
    finally:
        srv.cleanup()


@pytest.mark.skipif(target() != "aop", reason="kills the server process")
@pytest.mark.timeout(60 + CYCLES * 5)
def test_kill9_during_consumption_with_manual_acks():
    cycles = max(3, CYCLES // 4)
    seed = int(os.environ.get("AOP_CRASH_SEED", str(int(time.time())))) + 1
    print(f"consumption seed={seed} cycles={cycles}")
    rng = random.Random(seed)
    srv = AopServer()
    try:
        srv.start()
        setup_queue(srv.port)
        outstanding: set[str] = set()   # confirmed, not acked: must come back
        published: set[str] = set()
        for cycle in range(cycles):
            p = Publisher(srv.port, f"k{cycle}")
            p.start()
            p.ready.wait(10)
            wait_until = time.monotonic() + 10
            while time.monotonic() < wait_until and len(p.confirmed) < 1500:
                time.sleep(0.05)
            # stop publishing cleanly: close the socket; unconfirmed ones may or may not be there
            p.conn.close_socket()
            p.join(10)
            published |= set(p.sent.values())
            outstanding |= p.confirmed
            limit = rng.randrange(1, max(2, len(outstanding)))
            # AMQP has no confirmation of acks; the broker makes an ack durable within one group commit. The
            # kill comes 2 s after the last ack, so every ack must have been durable by then.
            deliveries, acked, killed = consume(srv.port, ack_limit=limit,
                                                kill=lambda: (time.sleep(2.0), srv.kill()))
            assert killed, "the consumer should have been interrupted"
            srv.start()
            after, acked2, _ = consume(srv.port)
            ids_after = {d[0] for d in after}
            missing = (outstanding - acked) - ids_after
            assert not missing, f"cycle {cycle}: {len(missing)} confirmed, unacked messages lost"
            back = [d for d in after if d[0] in acked]
            never = [d[0] for d in after if d[0] not in published]
            assert not never, f"never published: {never[:5]}"
            corrupt = [d[0] for d in after + deliveries if d[2] != body_for(d[0])]
            assert not corrupt, f"corrupted: {corrupt[:5]}"
            assert not back, f"cycle {cycle}: {len(back)} messages acked 2 s before the kill came back"
            # Delivered-but-unacked messages come back after the crash flagged redelivered (aop flags every
            # message recovered from before the restart, since delivery state is not persisted).
            unflagged = [d[0] for d in after if d[0] in {x[0] for x in deliveries} and not d[1]]
            assert not unflagged, f"cycle {cycle}: {len(unflagged)} delivered before the crash came back unflagged"
            print(f"cycle {cycle}: outstanding {len(outstanding)} acked-before-kill {len(acked)} "
                  f"acked-but-back {len(back)} delivered-before-and-back-without-redelivered {len(unflagged)}")
            outstanding = set()  # the second consume acked everything and closed cleanly
    except BaseException:
        print(srv.log_tail(40))
        raise
    finally:
        srv.cleanup()


def _mount_tmpfs(size: str) -> str:
    import subprocess
    import tempfile
    mnt = tempfile.mkdtemp(prefix="aop-enospc-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        pytest.fail(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    return mnt


def _umount(mnt: str) -> None:
    import subprocess
    subprocess.run(["umount", mnt], check=False)
    os.rmdir(mnt)


@pytest.mark.skipif(target() != "aop", reason="needs the server's data dir on a small tmpfs")
def test_disk_full_blocks_publishers_and_resumes():
    import pika
    from support import params

    mnt = _mount_tmpfs("16m")
    srv = AopServer(data_dir=os.path.join(mnt, "data"))
    os.makedirs(srv.data_dir, exist_ok=True)
    srv.log_path = __import__("pathlib").Path(mnt + ".log")
    try:
        srv.start()
        events: list[str] = []
        conn = pika.BlockingConnection(params(srv, blocked_connection_timeout=None))
        conn.add_on_connection_blocked_callback(lambda c, m: events.append("blocked"))
        conn.add_on_connection_unblocked_callback(lambda c, m: events.append("unblocked"))
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("full.q", durable=True)
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:   # leave ~2 MiB for the broker
            f.write(b"\0" * max(0, free - (2 << 20)))
        body = b"x" * 65536
        acked = 0
        nacked = 0
        for _ in range(200):
            try:
                ch.basic_publish("", "full.q", body, properties=pika.BasicProperties(delivery_mode=2))
                acked += 1
            except pika.exceptions.NackError:
                nacked += 1
                break
        assert nacked == 1, f"expected a nack once the disk was full (acked {acked})"
        deadline = time.monotonic() + 10
        while "blocked" not in events and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)
        assert events == ["blocked"], events
        assert srv.alive(), "the server died on ENOSPC"
        os.unlink(filler)
        deadline = time.monotonic() + 15
        while "unblocked" not in events and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)
        assert events == ["blocked", "unblocked"], events
        for _ in range(5):   # publishing resumes: confirmed again
            ch.basic_publish("", "full.q", body, properties=pika.BasicProperties(delivery_mode=2))
            acked += 1
        count = ch.queue_declare("full.q", durable=True, passive=True).method.message_count
        assert count == acked, (count, acked)
        conn.close()
        srv.stop()
        srv.start()   # everything acked survives a restart
        conn = pika.BlockingConnection(params(srv))
        ch = conn.channel()
        assert ch.queue_declare("full.q", durable=True, passive=True).method.message_count == acked
        conn.close()
        print(f"acked {acked} × 64 KiB, nacked 1, events {events}")
    except BaseException:
        print(srv.log_tail(40))
        raise
    finally:
        srv.kill()
        _umount(mnt)
        try:
            os.unlink(mnt + ".log")
        except OSError:
            pass
