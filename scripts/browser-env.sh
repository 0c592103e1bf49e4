#!/usr/bin/env bash
# Installs Debian's Chromium, which the browser tests drive headless (the dashboard in
# crates/controlplane/tests/dashboard.rs, the reports' screenshots in
# crates/report/tests/screenshot.rs and crates/spotlab/tests/demo.rs), and prints its
# path.
# Idempotent: does nothing when `chromium` is already on PATH. Needs root (or sudo)
# and Debian's apt; exits non-zero with a message otherwise.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  command -v chromium
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-env: chromium is not on PATH and apt-get is missing; install Chromium and put it on PATH (or set SPOTLAB_CHROMIUM)" >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "browser-env: installing chromium needs root, and sudo is missing" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# Install from the package lists there are; refresh them only if that fails (a fresh
# container has none).
if ! "${as_root[@]}" apt-get install -y --no-install-recommends chromium >&2; then
  "${as_root[@]}" apt-get update >&2 || {
    echo "browser-env: apt-get update failed" >&2
    exit 1
  }
  "${as_root[@]}" apt-get install -y --no-install-recommends chromium >&2 || {
    echo "browser-env: apt-get install chromium failed" >&2
    exit 1
  }
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "browser-env: chromium was installed but is not on PATH" >&2
  exit 1
fi
command -v chromium
