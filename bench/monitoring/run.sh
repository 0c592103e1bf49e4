#!/usr/bin/env bash
# spotlab monitoring benchmark (CloudWatch ingest, native reports, 10,000 alarms) side by
# side with moto's server mode, one command from a fresh clone:
#   bench/monitoring/run.sh            # full run (about 15 min on 2 cores; keep the machine idle)
#   bench/monitoring/run.sh --quick    # development run (about 3-4 min): short runs, one round
# Makes the Python environment (boto3, moto's server mode) and oha with the EC2 benchmark's
# setup (bench/ec2/setup.sh: same pins, same cache), builds spotlab in release and runs
# bench.py with that environment's Python. bench.py also runs the criterion benchmark
# (`cargo bench -p spotlab-bench --bench monitoring`) and, when perf is there, profiles;
# it writes bench/monitoring-raw.json and, through report.py, bench/MONITORING.md. A
# correctness check that fails stops the run with an error and writes no report. Any other
# arguments go to bench.py (see
# `~/.cache/spotlab-bench/ec2-venv/bin/python bench/monitoring/bench.py --help`).
# Honours CARGO_TARGET_DIR; uses /dev/shm for the state directories of its tmpfs variant.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${SPOTLAB_BENCH_CACHE:-$HOME/.cache/spotlab-bench}
cd "$ROOT"

"$ROOT/bench/ec2/setup.sh"
cargo build --release -p spotlab
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
    | "$CACHE/ec2-venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

# bench.py stops every process it started (by pid) on exit, error, SIGINT or SIGTERM; the
# trap forwards a signal to it and waits for that cleanup.
BENCH_PID=""
cleanup() {
    if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill -TERM "$BENCH_PID" 2>/dev/null || true
        wait "$BENCH_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

SPOTLAB_BENCH_COMMAND="bench/monitoring/run.sh${*:+ $*}" "$CACHE/ec2-venv/bin/python" "$HERE/bench.py" \
    --spotlab "$TARGET_DIR/release/spotlab" --target-dir "$TARGET_DIR" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
