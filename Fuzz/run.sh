#!/usr/bin/env bash
# Builds the libFuzzer targets (AOPWire instrumented with -sanitize=fuzzer,address) and runs each for N
# seconds on a copy of its committed seed corpus (Fuzz/Corpus/<target>/). Fails if any target finds a crash,
# a failed invariant (precondition), a leak, an out-of-memory or a timeout; prints the reproducer's path.
#   Fuzz/run.sh            20 s per target (CI size)
#   Fuzz/run.sh 600        10 min per target (by hand)
#   FUZZ_TARGETS="FieldTableFuzz" Fuzz/run.sh 60    one target
#   FUZZ_SEED=1 Fuzz/run.sh 15    a fixed libFuzzer seed (the test command uses one, so that CI replays the
#                                 same search each run; hand runs default to a random seed, 0)
# Reproduce a finding: .build-fuzz/debug/<target> <reproducer file>
# New interesting inputs stay in the copy; merge them into the seed corpus by hand if they are worth it
# (`<target> -merge=1 Fuzz/Corpus/<target> <copy>`).
set -euo pipefail

seconds=${1:-20}
seed=${FUZZ_SEED:-0}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
targets=(${FUZZ_TARGETS:-FrameDecoderFuzz CommandAssemblerFuzz FieldTableFuzz})

# Fuzz/Package.swift names the parent package by its directory name; a parent directory called "fuzz"
# would collide with the Fuzz package's own identity.
if [ "$(basename "$ROOT" | tr '[:upper:]' '[:lower:]')" = fuzz ]; then
    echo "Fuzz/run.sh: the repository directory must not be named 'fuzz' (package identity clash)" >&2
    exit 2
fi

echo "==> building fuzz targets (.build-fuzz)" >&2
build_log=$(mktemp)
# ld.gold warns about every ASan helper symbol it cannot export; those lines are noise.
if ! (cd Fuzz && swift build -c debug --scratch-path "$ROOT/.build-fuzz" -Xswiftc -sanitize=fuzzer,address) \
        >"$build_log" 2>&1; then
    grep -v "Cannot export local symbol" "$build_log" >&2
    rm -f "$build_log"
    echo "Fuzz/run.sh: build FAILED" >&2
    exit 1
fi
rm -f "$build_log"

work="$ROOT/.build-fuzz/runs/$(date -u +%Y%m%dT%H%M%SZ)"
status=0
for target in "${targets[@]}"; do
    corpus="$work/$target/corpus"
    artifacts="$work/$target/artifacts"
    mkdir -p "$corpus" "$artifacts"
    cp Fuzz/Corpus/"$target"/* "$corpus"/
    # Past findings (kept apart from the generated corpus, which make-corpus.py rewrites) run first.
    if [ -d Fuzz/Regressions/"$target" ]; then cp Fuzz/Regressions/"$target"/* "$corpus"/; fi
    log="$work/$target/fuzz.log"
    echo "==> $target for ${seconds}s, seed $seed (log: $log)" >&2
    set +e
    # The Swift runtime's backtracer would race ASan's report; libFuzzer handles crashes itself.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        "$ROOT/.build-fuzz/debug/$target" -max_total_time="$seconds" -seed="$seed" -timeout=5 -rss_limit_mb=1024 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$log" 2>&1
    rc=$?
    set -e
    # The last status line: executions, coverage (cov: edges, ft: features), corpus size, exec/s.
    grep -E '^#[0-9]+' "$log" | tail -1 >&2 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" >&2 || true
    if [ $rc -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
        status=1
        echo "FAILED: $target (exit $rc)" >&2
        grep -E 'ERROR|Precondition|Fatal error|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
        for f in "$artifacts"/*; do
            [ -e "$f" ] && echo "reproducer: $f   (run: .build-fuzz/debug/$target $f)" >&2
        done
    fi
done
if [ $status -eq 0 ]; then
    rm -rf "$work"
    echo "==> fuzzing: no findings" >&2
fi
exit $status
