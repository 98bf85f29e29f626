#!/usr/bin/env bash
# Broker RSS per idle AMQP connection, aop-server (release) vs a private RabbitMQ 3.10 node (issue #6 (g)).
#   Benchmarks/connections/run.sh                    5,000 connections, both brokers
#   N=1000 BROKERS=aop AOP_SERVER_BIN=.build/debug/aop-server Benchmarks/connections/run.sh
# Needs Debian's rabbitmq-server for the RabbitMQ column (BROKERS=aop skips it).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-5000}
BROKERS=${BROKERS:-aop,rabbitmq}
export AOP_SERVER_BIN=${AOP_SERVER_BIN:-$PWD/.build/release/aop-server}
if [ ! -x "$AOP_SERVER_BIN" ]; then swift build -c release --product aop-server; fi
# The client holds N sockets; the brokers inherit the raised limit too.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 100)) ]; then
  echo "open-file limit $(ulimit -n) is too low for $N connections"; exit 1
fi
echo "aop-server: $AOP_SERVER_BIN; $N idle connections (handshake done, channel 1 open, heartbeat 0)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 Benchmarks/connections/measure.py --connections "$N" --brokers "$BROKERS" ${SETTLE:+--settle "$SETTLE"}
