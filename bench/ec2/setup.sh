#!/usr/bin/env bash
# Installs the peers of the EC2 control-plane benchmark: a Python virtual environment with
# boto3 and moto's server mode (PyPI, pinned), and oha 1.16.0 (crates.io) built into the
# same cache as the data-plane benchmark's (bench/dataplane/setup.sh), so it is built once
# for both. Idempotent: each step is skipped when its tool is already there at the pinned
# version. Prints the versions at the end.
set -euo pipefail

CACHE=${SPOTLAB_BENCH_CACHE:-$HOME/.cache/spotlab-bench}
VENV="$CACHE/ec2-venv"
OHA_VERSION=1.16.0
PINS=(boto3==1.44.18 botocore==1.44.18 'moto[server]==5.2.6')
PYTHON=${PYTHON:-python3}

mkdir -p "$CACHE"

# A stamp holding the pins says the venv already has exactly them; a change of pins (or a
# broken venv) rebuilds it from scratch.
stamp="$VENV/.spotlab-pins"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ] \
    || ! "$VENV/bin/python" -c 'import boto3, moto.server' >/dev/null 2>&1; then
    echo "setup: creating $VENV with ${PINS[*]}" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" >&2
    echo "${PINS[*]}" > "$stamp"
fi

# The same step as bench/dataplane/setup.sh: one oha binary in the shared cache.
if [ ! -x "$CACHE/bin/oha" ] || ! "$CACHE/bin/oha" --version 2>/dev/null | grep -q "$OHA_VERSION"; then
    echo "setup: building oha $OHA_VERSION into $CACHE (about 9 min on 2 cores)" >&2
    nice -n 10 cargo install oha --version "$OHA_VERSION" --locked --root "$CACHE" >&2
fi

echo "python: $("$VENV/bin/python" --version 2>&1 | sed 's/^Python //')"
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("boto3", "botocore", "moto", "werkzeug", "flask"):
    print(f"{name}: {version(name)}")
PY
echo "oha: $("$CACHE/bin/oha" --version)"
