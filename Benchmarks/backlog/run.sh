#!/usr/bin/env bash
# Backlog benchmark: N persistent 1 KiB messages (confirmed, windowed) into one durable queue with no
# consumer; RSS at the end; restart time (until the port accepts and the queue count is right); drain time.
#   Benchmarks/backlog/run.sh                 1,000,000 messages, 4 publisher processes, release build
#   N=100000 PROCS=2 AOP_SERVER_BIN=... run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000000}
PROCS=${PROCS:-4}
BIN=${AOP_SERVER_BIN:-.build/release/aop-server}
if [ ! -x "$BIN" ]; then swift build -c release --product aop-server; fi
DATA=${DATA:-$(mktemp -d /tmp/aop-backlog.XXXXXX)}
LOG=$DATA.log
Q=backlog.q
PY="python3 Benchmarks/backlog/backlog.py"
PID=

start() {
  : > "$LOG"
  "$BIN" --bind 127.0.0.1 --port 0 --data-dir "$DATA" --log-level warning 2> "$LOG" &
  PID=$!
  for _ in $(seq 1 600); do
    PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$LOG" | head -1 | cut -d: -f2 || true)
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "server did not start"; cat "$LOG"; exit 1
}
rss() { awk '/VmRSS|VmHWM/ {printf "%s %.1f MiB  ", $1, $2/1024}' /proc/$PID/status; echo; }
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true; [ -z "${KEEP:-}" ] && rm -rf "$DATA" "$LOG"; }
trap cleanup EXIT

echo "binary $BIN, $N x 1 KiB persistent, $PROCS publisher processes, data dir $DATA"
start
echo -n "idle: "; rss
$PY publish "$PORT" $Q "$N" "$PROCS"
echo -n "after publish: "; rss
echo "queue count: $($PY count "$PORT" $Q)"
echo "data dir: $(du -sh "$DATA" | cut -f1)"
kill -TERM "$PID"; wait "$PID" || true
T0=$(date +%s.%N)
start
until [ "$($PY count "$PORT" $Q 2>/dev/null || echo -1)" = "$N" ]; do sleep 0.05; done
T1=$(date +%s.%N)
echo "restart: port open and count $N after $(echo "$T1 - $T0" | bc) s"
echo -n "after restart: "; rss
$PY drain "$PORT" $Q "$N"
echo -n "after drain: "; rss
echo "queue count: $($PY count "$PORT" $Q)"
