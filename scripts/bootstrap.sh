#!/usr/bin/env bash
# Idempotent bootstrap, sourced by scripts/demo.sh and scripts/test.sh:
#   1. Debian packages (speech synthesis: espeak-ng, flite, festival + voices; Arm toolchain, QEMU)
#      when any is missing;
#   2. a virtualenv at .venv/ in the repository root;
#   3. tinyml itself (editable) with its dev and QAT extras, reinstalled only when
#      pyproject.toml or this script changed.
set -euo pipefail

TINYML_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TINYML_ROOT

APT_PACKAGES=(espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm clang libfuzzer-14-dev libclang-rt-14-dev)
# QAT needs Keras 2 (tf-keras) and tensorflow-model-optimization. Both declare a dependency on
# the full `tensorflow` wheel, so they are installed without dependencies next to tensorflow-cpu.
QAT_PACKAGES=(tf-keras==2.21.0 tensorflow-model-optimization==0.8.1)
QAT_DEPS=(dm-tree mock scipy)

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
venv="$TINYML_ROOT/.venv"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "tinyml needs Python >= 3.11: set PYTHON=/path/to/python3.11" >&2; exit 1; }
  log "creating $venv"
  "$python" -m venv "$venv"
fi

stamp="$venv/.tinyml-bootstrap"
want=$(cat "$TINYML_ROOT/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing tinyml and its dependencies into .venv (first run: a few minutes)"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e "$TINYML_ROOT[dev,ray]"
  "$venv/bin/python" -m pip install -q --no-deps "${QAT_PACKAGES[@]}"
  "$venv/bin/python" -m pip install -q "${QAT_DEPS[@]}"
  echo "$want" > "$stamp"
fi

export PATH="$venv/bin:$PATH"
# PlatformIO: never wait on an upgrade check (no network here, +60 s once a week otherwise).
export PLATFORMIO_DISABLE_UPGRADE_CHECK=true
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
