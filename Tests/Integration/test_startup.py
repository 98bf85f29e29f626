"""aop-server start-up: a clear, non-zero exit when io_uring is unavailable."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from support import target

SYSCTL = "/proc/sys/kernel/io_uring_disabled"


@pytest.mark.skipif(target() != "aop", reason="aop-server start-up behaviour")
def test_io_uring_unavailable_exits_nonzero_naming_the_cause(broker):
    if not os.access(SYSCTL, os.W_OK):
        pytest.fail(f"needs root to toggle {SYSCTL} (CI runs as root)")
    binary = os.environ.get("AOP_SERVER_BIN", ".build/debug/aop-server")
    original = open(SYSCTL).read().strip()
    try:
        # 2 = io_uring_setup fails with EPERM for every process (kernel 6.6+); rings already open keep working.
        with open(SYSCTL, "w") as f:
            f.write("2")
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([binary, "--port", "0", "--data-dir", d], capture_output=True, text=True, timeout=30)
    finally:
        with open(SYSCTL, "w") as f:
            f.write(original)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "io_uring is not available" in p.stderr
    assert "io_uring_disabled" in p.stderr
