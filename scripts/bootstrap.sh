#!/usr/bin/env bash
# Idempotent bootstrap, sourced by scripts/demo.sh and scripts/test.sh:
#   1. Debian packages (speech synthesis: espeak-ng, flite, festival + voices; Arm toolchain, QEMU)
#      when any is missing, and the voices of Debian's contrib/non-free sections (MBROLA, RHVoice;
#      free for non-commercial use only) — the sections are enabled on Debian if they are not;
#      TINYML_NONFREE_VOICES=0 skips them (then pass --engines espeak-ng,flite,festival);
#   2. a virtualenv at .venv/ in the repository root;
#   3. tinyml itself (editable) with its dev and QAT extras, reinstalled only when
#      pyproject.toml or this script changed.
set -euo pipefail

TINYML_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TINYML_ROOT

APT_PACKAGES=(espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm clang libfuzzer-14-dev libclang-rt-14-dev)
NONFREE_VOICES=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 mbrola-af1 mbrola-nl2 mbrola-fr1 mbrola-fr4 mbrola-de1 mbrola-de2 mbrola-de3 mbrola-de4 mbrola-de5 mbrola-de6 mbrola-gr2 mbrola-hu1 mbrola-pl1 mbrola-ro1 mbrola-sw1 mbrola-sw2 festvox-us1 festvox-us2 festvox-us3 festvox-en1 festvox-rablpc16k festvox-don rhvoice librhvoice5 rhvoice-english)
# QAT needs Keras 2 (tf-keras) and tensorflow-model-optimization. Both declare a dependency on
# the full `tensorflow` wheel, so they are installed without dependencies next to tensorflow-cpu.
QAT_PACKAGES=(tf-keras==2.21.0 tensorflow-model-optimization==0.8.1)
QAT_DEPS=(dm-tree mock scipy)

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*" >&2; }

[ "${TINYML_NONFREE_VOICES:-1}" = 0 ] || APT_PACKAGES+=("${NONFREE_VOICES[@]}")
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  if [ "${TINYML_NONFREE_VOICES:-1}" != 0 ] && [ -z "$(apt-cache madison rhvoice-english 2>/dev/null)" ] \
      && grep -qx 'ID=debian' /etc/os-release; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    mirror=$(grep -hm1 -o 'https\?://[^ ]*debian/\?$' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null \
             | head -1 || true)
    log "enabling Debian's contrib and non-free sections for the MBROLA and RHVoice voices (TINYML_NONFREE_VOICES=0 skips)"
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "${mirror:-http://deb.debian.org/debian}" "$codename" | $sudo tee /etc/apt/sources.list.d/tinyml-contrib-non-free.sources >/dev/null
    $sudo apt-get update -qq
  fi
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
