#!/usr/bin/env bash
# The whole test suite (ruff, then pytest), after bootstrapping what it needs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TINYML_ROOT"
ruff check tinyml tests benchmarks examples
python -m pytest "$@"
