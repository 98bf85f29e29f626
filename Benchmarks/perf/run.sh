#!/usr/bin/env bash
# Issue #6's comparison: RabbitMQ 3.10 (Debian) vs aop-server, same scenarios, same client (aop-perf), one run.
#
# Installs rabbitmq-server from Debian when missing, builds aop-perf and aop-server (release), starts a private
# RabbitMQ node and an aop-server on free loopback ports, runs the scenarios interleaved, prints the table with
# ratios and targets (perf.py), and stops both brokers on exit.
#
#   Benchmarks/perf/run.sh                                   every scenario (a b c c' d e g f), about 25 minutes
#   SCENARIOS=a,d,e RUNS=1 DURATION=5 Benchmarks/perf/run.sh  a quick look
#   BACKLOG=100000 SCENARIOS=f Benchmarks/perf/run.sh         a smaller backlog
#   BROKERS=aop SCENARIOS=a Benchmarks/perf/run.sh            aop only (no ratio)
#
# Environment: SCENARIOS (a,b,c,cp,d,e,g,f), RUNS (3), DURATION (10), WARMUP (2), LATENCY_DURATION (30),
#              BACKLOG (1000000), IDLE (5000), BROKERS (rabbitmq,aop), SKIP_BUILD (set: reuse .build/release),
#              OUT_DIR (Benchmarks/perf/out) for the results JSON.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${OUT_DIR:-$here/out}"
mkdir -p "$out"

if [[ ",${BROKERS:-rabbitmq,aop}," == *",rabbitmq,"* ]] && ! dpkg -s rabbitmq-server >/dev/null 2>&1; then
  echo "# installing rabbitmq-server (Debian)"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq rabbitmq-server
  # Debian starts a system node on 5672; the comparison uses its own private node on free ports.
  $sudo_cmd systemctl stop rabbitmq-server 2>/dev/null || $sudo_cmd service rabbitmq-server stop 2>/dev/null || true
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
  echo "# building aop-perf and aop-server (release)"
  (cd "$repo" && swift build -c release --product aop-perf && swift build -c release --product aop-server)
fi
bin="$(cd "$repo" && swift build -c release --show-bin-path)"
for exe in aop-perf aop-server; do [[ -x "$bin/$exe" ]] || { echo "no $bin/$exe" >&2; exit 1; }; done

driver_pid=""
cleanup() {
  if [[ -n "$driver_pid" ]] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true   # perf.py stops both brokers on SIGTERM
    wait "$driver_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
python3 "$here/perf.py" --client "$bin/aop-perf" --aop-bin "$bin/aop-server" \
  --scenarios "${SCENARIOS:-a,b,c,cp,d,e,g,f}" --brokers "${BROKERS:-rabbitmq,aop}" --runs "${RUNS:-3}" \
  --duration "${DURATION:-10}" --warmup "${WARMUP:-2}" --latency-duration "${LATENCY_DURATION:-30}" \
  --backlog "${BACKLOG:-1000000}" --idle "${IDLE:-5000}" --json-out "$out/results-$stamp.json" &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
echo "# results: $out/results-$stamp.json (exit $rc)"
exit "$rc"
