"""Coverage-guided fuzzing (libFuzzer via Debian's clang; atheris for Python) of both ends of the
serial protocol: the firmware's command parser, host-compiled with address and undefined-behaviour
sanitizers, and the host's line splitter and parser. No crash, no hang (10 s per input), no
sanitizer report. The seed corpora live in tests/fuzz/corpus/ (copied: runs never change them).

A test run fuzzes each target for TINYML_FUZZ_SECONDS (default 60); the campaign behind the claim
of a million inputs sets TINYML_FUZZ_RUNS=1000000 instead."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml.audio import features
from tinyml.boards import get_board
from tinyml.datasets.speech_commands import LABELS
from tinyml.generate.project import generate

FUZZ = Path(__file__).parent / "fuzz"
TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
FUZZ_SECONDS = int(os.environ.get("TINYML_FUZZ_SECONDS", "60"))
FUZZ_RUNS = os.environ.get("TINYML_FUZZ_RUNS")
INPUT_TIMEOUT_S = 10
COMPILE_DEADLINE_S = 300
EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(?P<n>\d+)")

pytestmark = pytest.mark.slow


def _budget() -> list[str]:
    return [f"-runs={FUZZ_RUNS}"] if FUZZ_RUNS else [f"-max_total_time={FUZZ_SECONDS}"]


def _fuzz(argv: list[str], corpus: str, tmp_path: Path) -> int:
    work = tmp_path / "corpus"
    shutil.copytree(FUZZ / "corpus" / corpus, work)
    deadline = 6 * 3600 if FUZZ_RUNS else FUZZ_SECONDS * 3 + 300
    result = subprocess.run([*argv, str(work), f"-timeout={INPUT_TIMEOUT_S}", "-rss_limit_mb=4096",
                             "-print_final_stats=1", f"-artifact_prefix={tmp_path}/", *_budget()],
                            capture_output=True, text=True, timeout=deadline)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    match = EXECUTED.search(log)
    assert match, log[-2000:]
    executed = int(match["n"])
    print(f"{corpus}: {executed:,} inputs, no crash, no hang")
    return executed


def _audio_model(tmp_path: Path) -> Path:
    """The tiny 49x10 model as a KWS run's: the firmware then carries the audio front end."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "model_int8.tflite").write_bytes(TINY.read_bytes())
    (run / "run.json").write_text(json.dumps({"front_end": features.config(), "labels": list(LABELS)}))
    return run / "model_int8.tflite"


@pytest.mark.skipif(shutil.which("clang") is None, reason="needs clang with libFuzzer (scripts/bootstrap.sh)")
@pytest.mark.parametrize("audio", [False, True], ids=["commands", "audio-and-microphone"])
def test_firmware_command_parser_survives_fuzzing(audio: bool, tmp_path: Path) -> None:
    model, board = (_audio_model(tmp_path), "nano33ble_sense") if audio else (TINY, "qemu")
    project = generate(model, get_board(board), tmp_path / "p", runtime="echo", name="tiny")
    src = project.path / "src"
    sources = [src / "tinyml/core/tinyml_protocol.c", src / "tinyml/runtime/tinyml_runner_echo.c"]
    if audio:
        assert "#define TM_HAS_MIC 1" in (src / "tinyml_board.h").read_text()
        sources += [src / "tinyml/core/tinyml_stream.c", *sorted((src / "tinyml/frontend").glob("*.c")),
                    *sorted(src.glob("*.c"))]
    exe = tmp_path / "fuzz_firmware"
    # a small inference cap: the fuzzer explores commands, not the echo runtime's loop speed
    build = subprocess.run(["clang", "-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-DTM_INFER_MAX=100",
                            "-fno-sanitize-recover=undefined", f"-I{src}", f"-I{src / 'tinyml/core'}",
                            f"-I{src / 'tinyml/runtime'}", f"-I{src / 'tinyml/frontend'}",
                            str(FUZZ / "fuzz_firmware.c"), *map(str, sources), "-lm", "-o", str(exe)],
                           capture_output=True, text=True, timeout=COMPILE_DEADLINE_S)
    assert build.returncode == 0, build.stderr[-3000:]
    assert _fuzz([str(exe)], "firmware", tmp_path) > 1000


def test_host_protocol_parser_survives_fuzzing(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="needs atheris (pip install -e .[dev])")
    assert _fuzz([sys.executable, str(FUZZ / "fuzz_host.py")], "host", tmp_path) > 1000
