#!/usr/bin/env bash
# The main job: synthesize a small keyword-spotting dataset offline, train the DS-CNN,
# quantize it to full int8, and check it under the TFLite Micro host interpreter.
# Outputs land in work/ (dataset in work/synth-kws, run in work/kws-run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$TINYML_ROOT"
tinyml data synth-kws work/synth-kws --per-word "${TINYML_DEMO_PER_WORD:-300}"
tinyml train kws --data work/synth-kws --out work/kws-run --epochs "${TINYML_DEMO_EPOCHS:-20}"
tinyml quantize work/kws-run
tinyml analyze work/kws-run/model_int8.tflite --board qemu-stm32f405
