#!/usr/bin/env bash
# Installs the Python SDK (packages/sdk-python) editable, with its test extras, into a venv at
# .tools/python (git-ignored). Idempotent and instant when done: reinstalls only when the venv is
# missing or broken, or pyproject.toml changed (its sha256 is kept in a stamp file).
# Python: $PYTHON if set, else the newest python3.1x ≥ 3.10 on PATH.
# Tests: .tools/python/bin/pytest packages/sdk-python
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.tools/python"
PYPROJECT="$ROOT/packages/sdk-python/pyproject.toml"
STAMP="$VENV/.arc-sdk-pyproject-sha256"
want="$(sha256sum "$PYPROJECT" | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
  echo "python sdk: present in $VENV"
  exit 0
fi

supported() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }
python=""
if [ -n "${PYTHON:-}" ]; then
  supported "$PYTHON" || { echo "PYTHON=$PYTHON is not Python ≥ 3.10" >&2; exit 1; }
  python="$PYTHON"
else
  for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
      python="$candidate"
      break
    fi
  done
fi
[ -n "$python" ] || { echo "Python ≥ 3.10 is required for the Python SDK (set PYTHON=/path/to/python3)" >&2; exit 1; }

# A venv that no longer runs (its Python was removed or upgraded) is rebuilt from scratch.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c '' 2>/dev/null; then rm -rf "$VENV"; fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating Python venv at $VENV ($("$python" --version))"
  mkdir -p "$(dirname "$VENV")"
  "$python" -m venv "$VENV" || {
    echo "could not create a venv with $python (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  }
fi
echo "installing packages/sdk-python[test] into $VENV"
rm -f "$STAMP"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$VENV/bin/python" -m pip install --quiet --editable "$ROOT/packages/sdk-python[test]"
echo "$want" > "$STAMP"
echo "python sdk: installed ($("$VENV/bin/python" -c 'import arc_sdk; print(arc_sdk.__version__)'))"
