#!/usr/bin/env bash
# spotlab EC2 control-plane benchmark, one command from a fresh clone:
#   bench/ec2/run.sh            # full run (about 15 min on 2 cores, plus ~9 min once to build oha; keep the machine idle)
#   bench/ec2/run.sh --quick    # development run (about 2-3 min): short runs, one round, small steps
# Makes the Python environment and oha (setup.sh), builds spotlab in release and runs
# bench.py with that environment's Python; bench.py writes bench/EC2.md and
# bench/ec2-raw.json. Any other arguments go to bench.py (see
# `~/.cache/spotlab-bench/ec2-venv/bin/python bench/ec2/bench.py --help`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${SPOTLAB_BENCH_CACHE:-$HOME/.cache/spotlab-bench}
cd "$ROOT"

"$HERE/setup.sh"
cargo build --release -p spotlab

# Up to 800 instances, each with an agent, a metadata listener and connections.
hard=$(ulimit -Hn)
if [ "$hard" = "unlimited" ] || [ "$hard" -ge 65536 ]; then
    ulimit -n 65536
else
    ulimit -n "$hard"
fi

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

SPOTLAB_BENCH_COMMAND="bench/ec2/run.sh${*:+ $*}" "$CACHE/ec2-venv/bin/python" "$HERE/bench.py" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
