#!/usr/bin/env bash
# The main job: deploy keyword spotting to the emulated STM32F405 — synthesize a keyword dataset
# offline (espeak-ng, flite, festival, RHVoice, MBROLA and the neural Piper and Kokoro voices), train the DS-CNN, quantize it to full
# int8, generate the code-generated native firmware, build it with PlatformIO, run it under QEMU,
# and print on-device latency, RAM/flash and a bit-exact validation against the TFLite Micro host
# interpreter.
# Everything lands in work/deploy/kws/ (report/ holds bench.md, layers.svg, validate.json).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TINYML_ROOT"
tinyml deploy kws --work work/deploy "$@"  # the default recipe; e.g. --per-word/--epochs change it
