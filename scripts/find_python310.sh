#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, or explains what to install and fails.
# Order: $PYTHON310, python3.10 on PATH, pyenv versions (newest first), uv-managed pythons.
set -euo pipefail

is_310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
if [ -d "$pyenv_root/versions" ]; then
  while IFS= read -r dir; do candidates+=("$dir/bin/python"); done \
    < <(ls -d "$pyenv_root"/versions/3.10.* 2>/dev/null | sort -V -r)
fi
if uv --version >/dev/null 2>&1; then
  found=$(uv python find 3.10 2>/dev/null || true)
  [ -n "$found" ] && candidates+=("$found")
fi

for candidate in "${candidates[@]}"; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done

cat >&2 <<'MSG'
error: Python 3.10 is required (tfx 1.16 supports Python < 3.11) but none was found.
Looked at: $PYTHON310, python3.10 on PATH, $PYENV_ROOT/versions/3.10.*, `uv python find 3.10`.
Install one, for example `pyenv install 3.10` or `uv python install 3.10`,
or point PYTHON310 at an existing interpreter: make test PYTHON310=/path/to/python3.10
MSG
exit 1
