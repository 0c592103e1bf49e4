#!/usr/bin/env bash
# Installs the peers of the data-plane benchmark: nginx (Debian nginx-light), wrk (Debian)
# and oha 1.16.0 (crates.io, built into a cache outside the repo). Idempotent: each step is
# skipped when its tool is already there. Prints the versions at the end.
set -euo pipefail

CACHE=${SPOTLAB_BENCH_CACHE:-$HOME/.cache/spotlab-bench}
OHA_VERSION=1.16.0

need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}" >/dev/null
    # The Debian package starts a system nginx on port 80; the benchmark runs its own.
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop nginx >/dev/null 2>&1 || true; fi
fi

if [ ! -x "$CACHE/bin/oha" ] || ! "$CACHE/bin/oha" --version 2>/dev/null | grep -q "$OHA_VERSION"; then
    echo "setup: building oha $OHA_VERSION into $CACHE (about 9 min on 2 cores)" >&2
    mkdir -p "$CACHE"
    nice -n 10 cargo install oha --version "$OHA_VERSION" --locked --root "$CACHE" >&2
fi

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
echo "nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
echo "wrk: $(wrk -v 2>&1 | head -n1 | sed "s/ Copyright.*//" || true)"
echo "oha: $("$CACHE/bin/oha" --version)"
