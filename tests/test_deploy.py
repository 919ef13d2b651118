"""`tinyml deploy kws` end to end on the emulated STM32F405 (real training, conversion, generated
native firmware built by PlatformIO offline, QEMU over the serial Target), then the stand-alone
`bench` and `validate` commands on the same project, and a re-deploy that redoes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/bootstrap.sh)")]


@pytest.fixture(scope="module")
def deployed(synth_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("deploy")
    argv = ["deploy", "kws", "--data", str(synth_dataset), "--epochs", "2", "--runs", "3", "--samples", "12",
            "--work", str(work)]
    assert main(argv) == 0
    return work / "kws"


def test_deploy_reports_latency_memory_and_a_bit_exact_validation(deployed: Path) -> None:
    report = json.loads((deployed / "report" / "deploy.json").read_text())
    bench = report["bench"]
    assert bench["tick_unit"] == "instructions" and bench["runtime"] == "native" and bench["board"] == "qemu-stm32f405"
    assert len(set(bench["ticks"])) == 1 and bench["ticks"][0] > 1_000_000  # exact under -icount shift=0
    assert 0 < bench["arena_bytes"] < bench["ram_bytes"] < 128 * 1024 and 0 < bench["flash_bytes"] < 1024 * 1024
    assert [name for name, _ in bench["layers"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    validation = report["validation"]
    assert validation["samples"] == 12 and validation["match_rate"] == 1.0
    assert validation["device_accuracy"] == validation["host_accuracy"]
    for name in ("bench.md", "layers.svg", "validate.json"):
        assert (deployed / "report" / name).stat().st_size > 0
    # instructions are not time: no measured µs, only an estimate labelled with the board's 168 MHz clock
    assert "summary_us" not in bench and bench["clock_hz"] == 168_000_000
    # cycles come from the Cortex-M4 timing model over one traced inference: the same instructions
    assert abs(bench["ticks"][0] - bench["traced_instructions"]) <= 64
    cpi = bench["estimated_cycles"] / bench["traced_instructions"]
    assert 1.1 < cpi < 2.5
    assert bench["estimate_us_at_board_clock"]["median"] == round(bench["ticks"][0] * cpi / 168, 1)
    md = (deployed / "report" / "bench.md").read_text()
    assert "estimate ≈" in md and "at 168 MHz" in md and "not measured" in md and "Cortex-M4 timing model" in md
    # where the cycles go, per firmware function: every cycle is in one, the kernels lead
    functions = dict(bench["cycle_functions"])
    assert sum(functions.values()) == bench["estimated_cycles"] and "?" not in functions
    assert bench["cycle_functions"][0][0] in md and "Estimated cycles per function" in md


def test_redeploying_an_unchanged_model_retrains_and_rebuilds_nothing(deployed: Path, synth_dataset: Path) -> None:
    elf = next((deployed / "firmware-qemu-stm32f405-native" / ".pio" / "build" / "qemu-stm32f405").glob("*.elf"))
    model = deployed / "kws-run" / "model_int8.tflite"
    kept = elf.with_name(elf.name + ".cycles.json")  # the traced cycle estimate of this firmware
    before = (elf.stat().st_mtime_ns, model.stat().st_mtime_ns, kept.stat().st_mtime_ns)
    argv = ["deploy", "kws", "--data", str(synth_dataset), "--epochs", "2", "--runs", "2", "--samples", "4",
            "--work", str(deployed.parent)]
    assert main(argv) == 0
    assert (elf.stat().st_mtime_ns, model.stat().st_mtime_ns, kept.stat().st_mtime_ns) == before  # nothing traced
    stages = json.loads((deployed / "report" / "deploy.json").read_text())["stages"]
    assert stages["train"] < 5 and stages["quantize"] < 5


def test_bench_and_validate_commands_on_the_deployed_project(deployed: Path, tmp_path: Path) -> None:
    project = deployed / "firmware-qemu-stm32f405-native"
    assert main(["bench", str(project), "--runs", "2", "--out", str(tmp_path)]) == 0
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert bench["runs"] == 2 and bench["summary"]["median"] == bench["ticks"][0]
    model = deployed / "kws-run" / "model_int8.tflite"
    assert main(["validate", str(project), "--model", str(model), "--run", str(deployed / "kws-run"),
                 "--samples", "5"]) == 0
    assert json.loads((project / "report" / "validate.json").read_text())["bit_exact"] == 5


def test_device_commands_fail_with_one_line_on_a_project_that_is_not_built(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(tmp_path)]) == 1
    assert "is not a tinyml project" in capsys.readouterr().err


def test_hil_example_drives_the_deployed_board(deployed: Path) -> None:
    """examples/hil is a user's pytest suite: run it for real against the emulated board."""
    example = Path(__file__).parent.parent / "examples" / "hil"
    env = {**os.environ, "TINYML_PROJECT": str(deployed / "firmware-qemu-stm32f405-native"),
           "TINYML_MODEL": str(deployed / "kws-run" / "model_int8.tflite")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "3 passed" in result.stdout


@pytest.mark.tflm
@pytest.mark.skipif(not os.environ.get("TINYML_TFLM_DIR"), reason="needs TINYML_TFLM_DIR (tflite-micro checkout)")
def test_deploy_with_the_tflm_runtime(deployed: Path, synth_dataset: Path) -> None:
    """The same deployment with TFLite Micro + CMSIS-NN instead of the native runtime (training and
    quantization reused): built, run under QEMU, outputs bit-exact with the TFLM host interpreter."""
    argv = ["deploy", "kws", "--data", str(synth_dataset), "--epochs", "2", "--runs", "2", "--samples", "12",
            "--runtime", "tflm", "--work", str(deployed.parent)]
    assert main(argv) == 0
    report = json.loads((deployed / "report" / "deploy.json").read_text())
    assert report["runtime"] == "tflm" and report["bench"]["runtime"] == "tflm"
    assert report["bench"]["tick_unit"] == "instructions" and report["bench"]["ticks"][0] > 1_000_000
    assert report["validation"]["match_rate"] == 1.0 and report["validation"]["samples"] == 12
