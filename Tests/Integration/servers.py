"""Start/stop the broker under test: aop-server or a private RabbitMQ node.

Both kinds expose the same interface (`BrokerProcess`): start(), stop(), sigterm(), restart(),
host/port/kind, alive(), log_tail(). Every process is started in its own session so it can be
stopped without touching anything else on the machine; only processes started here are ever
signalled.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
LISTENING_RE = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


class BrokerProcess:
    kind = "?"

    def __init__(self, data_dir: Path | None = None):
        self.host = HOST
        self.port = 0
        self.owns_data_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix=f"aop-itest-{self.kind}-"))
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")
        self.starts = 0

    # interface ----------------------------------------------------------------------------
    def start(self) -> None:
        raise NotImplementedError

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sigterm(self) -> None:
        """Send SIGTERM to the server process (graceful shutdown)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 30.0) -> int | None:
        """Graceful stop (SIGTERM), then SIGKILL of our own process group if it hangs."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            try:
                self.sigterm()
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                rc = self.proc.wait(timeout=10)
        self._after_exit()
        self._unregister()
        return rc

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self._kill_group()
            self.proc.wait(timeout=10)
        self._after_exit()
        self._unregister()

    def restart(self, timeout: float = 30.0) -> None:
        self.stop(timeout)
        self.start()

    def cleanup(self) -> None:
        self.kill()
        if self.owns_data_dir and not os.environ.get("AOP_TEST_KEEP"):
            shutil.rmtree(self.data_dir, ignore_errors=True)
            try:
                self.log_path.unlink()
            except OSError:
                pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # helpers ------------------------------------------------------------------------------
    def _register(self) -> None:
        """Leave a pid file so Scripts/test-all can kill our process group if pytest is killed."""
        d = os.environ.get("AOP_TEST_PID_DIR")
        if d and self.proc is not None:
            try:
                Path(d, str(self.proc.pid)).write_text(self.kind)
            except OSError:
                pass

    def _unregister(self) -> None:
        d = os.environ.get("AOP_TEST_PID_DIR")
        if d and self.proc is not None:
            try:
                Path(d, str(self.proc.pid)).unlink()
            except OSError:
                pass

    def _kill_group(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group we created (start_new_session)
        except ProcessLookupError:
            pass

    def _after_exit(self) -> None:
        pass


class AopServer(BrokerProcess):
    kind = "aop"

    def __init__(self, data_dir: Path | None = None, extra_args: list[str] | None = None):
        super().__init__(data_dir)
        self.binary = os.environ.get("AOP_SERVER_BIN") or str(REPO_ROOT / ".build" / "debug" / "aop-server")
        self.extra_args = extra_args or []

    def start(self, timeout: float = 30.0) -> None:
        if not os.path.exists(self.binary):
            raise RuntimeError(f"aop-server binary not found at {self.binary} (set AOP_SERVER_BIN)")
        self.starts += 1
        cmd = [self.binary, "--bind", HOST, "--port", "0", "--data-dir", str(self.data_dir),
               "--log-level", os.environ.get("AOP_TEST_LOG_LEVEL", "info"), *self.extra_args]
        log = open(self.log_path, "ab")
        log.write(f"\n==== start #{self.starts}: {' '.join(cmd)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self._register()
        found = threading.Event()
        port_box: list[int] = []

        def pump() -> None:  # copy stderr to the log file, spotting the "listening on" line
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                if not found.is_set():
                    m = LISTENING_RE.search(line)
                    if m:
                        port_box.append(int(m.group(1)))
                        found.set()
            log.close()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(timeout) or not port_box:
            self.kill()
            raise RuntimeError(f"aop-server did not report 'listening on' within {timeout}s:\n{self.log_tail()}")
        self.port = port_box[0]


class RabbitServer(BrokerProcess):
    """A private RabbitMQ node (Debian's rabbitmq-server) on free loopback ports."""
    kind = "rabbitmq"
    SBIN = Path("/usr/lib/rabbitmq/bin")

    def __init__(self, data_dir: Path | None = None):
        super().__init__(data_dir)
        self.port = free_port()
        self.dist_port = free_port()
        self.nodename = f"rabbit-test-{self.port}@localhost"

    def env(self) -> dict[str, str]:
        d = self.data_dir
        conf = d / "rabbitmq.conf"
        conf.write_text(
            f"listeners.tcp.default = {HOST}:{self.port}\n"
            "loopback_users.guest = true\n"
            "disk_free_limit.absolute = 1MB\n"
            "log.console = false\n"
            "log.file.level = info\n"
        )
        (d / "enabled_plugins").write_text("[].\n")
        env = dict(os.environ)
        env.update({
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_NODE_IP_ADDRESS": HOST,
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(d / "pid"),
            "ERL_EPMD_ADDRESS": HOST,
        })
        return env

    def start(self, timeout: float = 90.0) -> None:
        self.starts += 1
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} already in use; cannot start RabbitMQ there")
        log = open(self.log_path, "ab")
        log.write(f"\n==== start #{self.starts}: rabbitmq node {self.nodename}\n".encode())
        log.flush()
        self.proc = subprocess.Popen([str(self.SBIN / "rabbitmq-server")], env=self.env(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._register()
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if port_open(self.port):
                return
            time.sleep(0.25)
        self.kill()
        raise RuntimeError(f"RabbitMQ did not open port {self.port} within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 60.0) -> int | None:
        if self.proc is not None and self.proc.poll() is None:
            # rabbitmqctl stop is the documented way; SIGTERM to the wrapper script does the same.
            subprocess.run([str(self.SBIN / "rabbitmqctl"), "-n", self.nodename, "stop"], env=self.env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False)
        return super().stop(timeout)

    def _after_exit(self) -> None:
        # The wrapper script may have died before the VM; make sure the node's VM is gone too.
        pid_file = self.data_dir / "pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            pid_file.unlink()
        except OSError:
            pass


def make_server(kind: str, data_dir: Path | None = None) -> BrokerProcess:
    if kind == "aop":
        return AopServer(data_dir)
    if kind == "rabbitmq":
        return RabbitServer(data_dir)
    raise ValueError(f"AOP_TEST_TARGET must be 'aop' or 'rabbitmq', not {kind!r}")
