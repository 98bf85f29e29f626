"""A bounded backlog: 100,000 persistent 1 KiB messages with no consumer.

The server's RSS must stay under RSS_BOUND_MIB (the issue's target is 128 MiB for 1,000,000 messages,
so 100,000 must fit easily: memory must not grow with the backlog), a restart must preserve the count,
and the peak RSS (VmHWM) of the restarted server through recovery and a full drain must stay under the
bound too (recovery and first reads of sealed segments once read whole 64 MiB segments into memory).
The full-size run is Benchmarks/backlog/run.sh.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers import AopServer
from support import target

pytestmark = [pytest.mark.restart, pytest.mark.fresh_server, pytest.mark.slow]

N = int(os.environ.get("AOP_BACKLOG_MESSAGES", "100000"))
RSS_BOUND_MIB = int(os.environ.get("AOP_BACKLOG_RSS_MIB", "128"))
CLIENT = Path(__file__).resolve().parents[2] / "Benchmarks" / "backlog" / "backlog.py"


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Resident set (VmRSS) or its peak so far (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def client(*args: str, timeout: float = 120) -> str:
    r = subprocess.run([sys.executable, str(CLIENT), *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.skipif(target() != "aop", reason="reads the aop-server process's RSS")
@pytest.mark.timeout(240)
def test_backlog_rss_bounded_and_count_survives_restart():
    srv = AopServer()
    try:
        srv.start()
        print(client("publish", str(srv.port), "backlog.q", str(N), "2"))
        rss = rss_mib(srv.proc.pid)
        assert int(client("count", str(srv.port), "backlog.q")) == N
        print(f"RSS with {N} x 1 KiB queued: {rss:.1f} MiB")
        assert rss < RSS_BOUND_MIB, f"RSS {rss:.1f} MiB with {N} messages queued (bound {RSS_BOUND_MIB})"
        srv.stop()
        t0 = time.monotonic()
        srv.start()
        assert int(client("count", str(srv.port), "backlog.q")) == N
        print(f"restart to correct count: {time.monotonic() - t0:.2f}s, RSS {rss_mib(srv.proc.pid):.1f} MiB, "
              f"peak {rss_mib(srv.proc.pid, 'VmHWM'):.1f} MiB")
        print(client("drain", str(srv.port), "backlog.q", str(N)))
        peak = rss_mib(srv.proc.pid, "VmHWM")
        print(f"peak RSS of the restarted server through recovery and drain: {peak:.1f} MiB")
        assert peak < RSS_BOUND_MIB, f"peak RSS {peak:.1f} MiB during recovery/drain (bound {RSS_BOUND_MIB})"
        assert int(client("count", str(srv.port), "backlog.q")) == 0
    except BaseException:
        print(srv.log_tail(30))
        raise
    finally:
        srv.cleanup()
