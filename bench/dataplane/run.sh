#!/usr/bin/env bash
# spotlab data-plane benchmark, one command from a fresh clone:
#   bench/dataplane/run.sh            # full run (about 20 min on 2 cores, plus ~9 min once to build oha; keep the machine idle)
#   bench/dataplane/run.sh --quick    # development run (about 2 min): short runs, N = 1,000, 1 round
# Installs the peers (setup.sh), builds spotlab in release, raises the open-file limit and
# runs bench.py, which writes bench/DATAPLANE.md and bench/dataplane-raw.json.
# Any other arguments go to bench.py (see `python3 bench/dataplane/bench.py --help`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

"$HERE/setup.sh"
cargo build --release -p spotlab

# 10,000 callers need 10,000 sockets in the agent and as many in nginx.
hard=$(ulimit -Hn)
if [ "$hard" = "unlimited" ] || [ "$hard" -ge 200000 ]; then
    ulimit -n 200000
else
    ulimit -n "$hard"
fi
echo "open-file limit: $(ulimit -n)" >&2

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

python3 "$HERE/bench.py" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
