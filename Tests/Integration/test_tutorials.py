"""RabbitMQ's six Python tutorials, run unchanged as separate processes.

The scripts in tutorials/ are the tutorials' code as published (pika). They connect to
localhost:5672; tutorials/_shim/sitecustomize.py redirects that to the broker under test
(see its docstring). Receivers/workers run until the test stops them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.tutorials

TUT = Path(__file__).parent / "tutorials"


class Script:
    def __init__(self, broker, name, *args):
        env = dict(os.environ, AOP_TUTORIAL_PORT=str(broker.port), PYTHONUNBUFFERED="1",
                   PYTHONPATH=str(TUT / "_shim") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, str(TUT / name), *args], env=env, cwd=TUT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, text, count=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while sum(text in line for line in self.lines) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{text!r} x{count} not seen; output so far: {self.lines}")
                self.cond.wait(remaining)

    def finish(self, timeout=15.0):
        rc = self.proc.wait(timeout=timeout)
        time.sleep(0.05)
        assert rc == 0, f"exit {rc}: {self.lines}"
        return self.lines

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def run(broker):
    started: list[Script] = []

    def start(name, *args):
        s = Script(broker, name, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def test_1_hello_world(run):
    rx = run("receive.py")
    rx.wait_for("Waiting for messages")
    assert " [x] Sent 'Hello World!'" in run("send.py").finish()
    rx.wait_for(" [x] Received b'Hello World!'")


def test_2_work_queues(run):
    w1, w2 = run("worker.py"), run("worker.py")
    w1.wait_for("Waiting for messages")
    w2.wait_for("Waiting for messages")
    for i in range(4):
        run("new_task.py", f"task{i}.").finish()  # one dot: each task "works" for 1 s
    deadline = time.monotonic() + 15
    while sum("[x] Done" in line for w in (w1, w2) for line in w.lines) < 4:
        assert time.monotonic() < deadline, (w1.lines, w2.lines)
        time.sleep(0.05)
    received = [line for w in (w1, w2) for line in w.lines if "Received" in line]
    assert sorted(received) == [f" [x] Received task{i}." for i in range(4)]
    # fair dispatch (prefetch_count=1): both workers got work
    assert any("Received" in line for line in w1.lines) and any("Received" in line for line in w2.lines)


def test_3_publish_subscribe(run):
    r1, r2 = run("receive_logs.py"), run("receive_logs.py")
    r1.wait_for("Waiting for logs")
    r2.wait_for("Waiting for logs")
    run("emit_log.py", "info:", "fanned", "out").finish()
    for r in (r1, r2):
        r.wait_for(" [x] b'info: fanned out'")


def test_4_routing(run):
    errors = run("receive_logs_direct.py", "error")
    everything = run("receive_logs_direct.py", "info", "warning", "error")
    errors.wait_for("Waiting for logs")
    everything.wait_for("Waiting for logs")
    run("emit_log_direct.py", "error", "Run. Run. Or it will explode.").finish()
    run("emit_log_direct.py", "info", "just info").finish()
    everything.wait_for(" [x] error:b'Run. Run. Or it will explode.'")
    everything.wait_for(" [x] info:b'just info'")
    errors.wait_for(" [x] error:b'Run. Run. Or it will explode.'")
    time.sleep(0.2)
    assert not any("info" in line for line in errors.lines if "[x]" in line)


def test_5_topics(run):
    kern = run("receive_logs_topic.py", "kern.*")
    crit = run("receive_logs_topic.py", "*.critical")
    all_ = run("receive_logs_topic.py", "#")
    for r in (kern, crit, all_):
        r.wait_for("Waiting for logs")
    run("emit_log_topic.py", "kern.critical", "A critical kernel error").finish()
    run("emit_log_topic.py", "user.info", "hello").finish()
    for r in (kern, crit, all_):
        r.wait_for(" [x] kern.critical:b'A critical kernel error'")
    all_.wait_for(" [x] user.info:b'hello'")
    time.sleep(0.2)
    assert not any("user.info" in line for r in (kern, crit) for line in r.lines)


def test_6_rpc(run):
    server = run("rpc_server.py")
    server.wait_for("Awaiting RPC requests")
    lines = run("rpc_client.py").finish(timeout=30)
    assert " [x] Requesting fib(30)" in lines
    assert " [.] Got 832040" in lines
    server.wait_for(" [.] fib(30)")
