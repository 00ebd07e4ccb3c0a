#!/usr/bin/env bash
# Creates or updates .venv from requirements.lock with uv, then installs this package
# editable. Called by the Makefile only when the lock, setup.py or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python310=$(bash scripts/find_python310.sh)
if uv --version >/dev/null 2>&1; then
  uv=(uv)
else
  "$python310" -m uv --version >/dev/null 2>&1 || "$python310" -m pip install --quiet uv
  uv=("$python310" -m uv)
fi

[ -x .venv/bin/python ] || "${uv[@]}" venv --seed --python "$python310" .venv
"${uv[@]}" pip sync --python .venv/bin/python requirements.lock
# The benchmark's peer (Model Card Toolkit): its pins conflict with tfx 1.16, so no deps.
"${uv[@]}" pip install --python .venv/bin/python --no-deps -r bench/requirements-peer.txt
"${uv[@]}" pip install --python .venv/bin/python --no-deps -e .
touch .venv/.installed
