#!/usr/bin/env bash
# Installs the Python packages the tests need into the project-local virtualenv .venv/:
# the moto server (the AWS emulator for Kinesis, SQS, Scheduler and DynamoDB Streams) and
# the official StateFun Python SDK with aiohttp (functions written as StateFun users write
# them, for the conformance and Lambda adapter tests).
#
# Idempotent and fast when already installed: a stamp file records the pinned versions, so a
# second run only checks one file. Progress goes to stderr (pip takes about a minute).
#
# Knobs: STATEFUN_PYTHON (default python3), STATEFUN_VENV (default <repo>/.venv).
set -euo pipefail

MOTO_VERSION="5.2.5"
STATEFUN_SDK_VERSION="3.3.0"
AIOHTTP_VERSION="3.14.5"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${STATEFUN_VENV:-$repo/.venv}"
python="${STATEFUN_PYTHON:-python3}"
stamp="$venv/.statefun-venv-moto-$MOTO_VERSION-sdk-$STATEFUN_SDK_VERSION-aiohttp-$AIOHTTP_VERSION"

if [[ -f "$stamp" && -x "$venv/bin/moto_server" ]]; then
  exit 0
fi

log() { echo "[ensure-venv] $*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
  log "cannot find '$python': install Python 3 (3.9 or newer) or set STATEFUN_PYTHON to its path"
  exit 1
fi

# Two test runs starting at once must not pip-install into the same venv together.
mkdir -p "$venv"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv/.install-lock"
  flock 9
  if [[ -f "$stamp" && -x "$venv/bin/moto_server" ]]; then
    exit 0
  fi
fi

started=$SECONDS
if [[ ! -x "$venv/bin/python" ]]; then
  log "creating virtualenv $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi

log "installing moto[server]==$MOTO_VERSION, apache-flink-statefun==$STATEFUN_SDK_VERSION, aiohttp==$AIOHTTP_VERSION into $venv (about a minute on first use)"
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --progress-bar off \
  "moto[server]==$MOTO_VERSION" "apache-flink-statefun==$STATEFUN_SDK_VERSION" "aiohttp==$AIOHTTP_VERSION" >&2

rm -f "$venv"/.statefun-moto-* "$venv"/.statefun-venv-*
touch "$stamp"
log "ready in $((SECONDS - started))s: $venv/bin/moto_server, $venv/bin/python with statefun $STATEFUN_SDK_VERSION"
