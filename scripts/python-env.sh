#!/usr/bin/env bash
# Creates (or refreshes) the Python virtual environment the AWS CLI conformance tests
# use, from crates/spotlab/tests/aws-cli/requirements.txt, and prints its path.
# Idempotent: a stamp of the requirements skips reinstalling. Set SPOTLAB_VENV to put it
# elsewhere than target/spotlab-venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${SPOTLAB_VENV:-$root/target/spotlab-venv}"
requirements="$root/crates/spotlab/tests/aws-cli/requirements.txt"
stamp="$venv/.requirements"
if [ -x "$venv/bin/python3" ] && cmp -s "$requirements" "$stamp"; then
  echo "$venv"
  exit 0
fi
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
cp "$requirements" "$stamp"
echo "$venv"
