#!/usr/bin/env bash
# Side-by-side throughput comparison: RabbitMQ 3.10 vs aop, same C client (amqp-load on rabbitmq-c).
#
# Builds the client (cc -O2) and aop-server (release), starts a private RabbitMQ node and an aop-server on
# free loopback ports, runs each scenario RUNS times interleaved (rabbitmq, aop, rabbitmq, aop, ...) for
# DURATION seconds each after WARMUP seconds, prints a table of medians with the aop/RabbitMQ ratio and the
# machine load (uptime), and stops both brokers on exit (compare.py stops them in a finally block; the trap
# below covers the case where this script itself is interrupted).
#
# Environment: DURATION (10), WARMUP (2), RUNS (3), SCENARIOS (transient,persistent), SKIP_BUILD (unset),
#              OUT_DIR (Benchmarks/compare/out) for the client binary and results JSON.
# Needs: librabbitmq-dev, rabbitmq-server (Debian), python3, swift.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${OUT_DIR:-$here/out}"
mkdir -p "$out"

for pkg in librabbitmq-dev rabbitmq-server; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { echo "missing $pkg: apt-get install -y $pkg" >&2; exit 1; }
done

echo "# building amqp-load"
cc -O2 -Wall -Wextra -pthread -o "$out/amqp-load" "$here/amqp-load.c" -lrabbitmq
if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "# building aop-server (release)"
  (cd "$repo" && swift build -c release --product aop-server)
fi
aop_bin="$repo/.build/release/aop-server"
[[ -x "$aop_bin" ]] || { echo "no $aop_bin" >&2; exit 1; }

driver_pid=""
cleanup() {
  # Only our own driver: it stops both brokers (its own process groups) on SIGTERM.
  if [[ -n "$driver_pid" ]] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
python3 "$here/compare.py" --client "$out/amqp-load" --aop-bin "$aop_bin" \
  --duration "${DURATION:-10}" --warmup "${WARMUP:-2}" --runs "${RUNS:-3}" \
  --scenarios "${SCENARIOS:-transient,persistent}" --json-out "$out/results-$stamp.json" &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
echo "# results: $out/results-$stamp.json (exit $rc)"
exit "$rc"
