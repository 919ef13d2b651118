"""The official MLPerf Tiny runner (mlcommons/tiny ``benchmark/runner``) against firmware generated
with defaults: its exact command sequence, read back the way it reads it.

What the runner does (device_under_test.py, script.py, tests.yaml): ``name%``, ``profile%`` — and it
looks its test script and dataset folder up by the ``m-model-[...]`` id, so any id but
kws01/vww01/ic01/ad01 crashes it — then per input file ``db load N%``, ``db <hex>%`` in chunks of
31 bytes, and ``infer N W%`` (kws01: ``infer 10 1`` in performance mode, ``infer 1 0`` for
accuracy). Each line is matched whole after stripping (``^m-results-\\[([^]]+)\\]$``,
``^m-lap-us-([0-9]+)$``) and a command ends at ``m-ready``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.generate.project import generate
from tinyml.tflite.interpreters import TflmRunner
from tinyml.tflite.model import load_model

from .stream_support import build_host_firmware

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
RUNNER_CHUNK_BYTES = 31  # DUT._max_bytes without a power manager
RESPONSE_DEADLINE_S = 10.0

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a host C compiler")


class RunnerLink:
    """The runner's SerialDevice: write a command, collect stripped lines until m-ready."""

    def __init__(self, exe: Path) -> None:
        import subprocess

        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.boot = self._until_ready()

    def _until_ready(self) -> list[str]:
        lines: list[str] = []
        assert self.proc.stdout is not None
        while True:
            raw = self.proc.stdout.readline()
            assert raw, f"the firmware closed the line after {lines}"
            lines.append(raw.decode().strip())
            if lines[-1] == "m-ready":
                return lines

    def send_command(self, command: str) -> list[str]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command}%".encode())
        return self._until_ready()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=RESPONSE_DEADLINE_S)


def _load(link: RunnerLink, data: bytes) -> list[str]:
    link.send_command(f"db load {len(data)}")
    result: list[str] = []
    for i in range(0, len(data), RUNNER_CHUNK_BYTES):
        result = link.send_command(f"db {''.join(f'{d:02x}' for d in data[i : i + RUNNER_CHUNK_BYTES])}")
    return result


def _gather(lines: list[str]) -> dict[str, object]:
    """script.py's _gather_infer_results."""
    result: dict[str, object] = {}
    for line in lines:
        if match := re.match(r"^m-results-\[([^]]+)\]$", line):
            result["results"] = [float(x) for x in match.group(1).split(",") if x.strip()]
        elif match := re.match(r"^m-lap-us-([0-9]+)$", line):
            result["end_time" if "start_time" in result else "start_time"] = int(match.group(1))
    return result


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> RunnerLink:
    out = tmp_path_factory.mktemp("mlperf")
    project = generate(TINY, get_board("qemu"), out / "project", runtime="native")  # defaults: no --name
    device = RunnerLink(build_host_firmware(project.path, out / "fw"))
    yield device
    device.close()


def test_boot_and_identification_as_the_runner_reads_them(link: RunnerLink) -> None:
    assert link.boot[0] == "m-timestamp-mode-performance"
    assert re.match(r"^m-lap-us-[0-9]+$", link.boot[1]) and link.boot[-2:] == ["m-init-done", "m-ready"]
    names = [m.group(2) for line in link.send_command("name") if (m := re.match(r"^m-(name)-dut-\[([^]]+)]$", line))]
    assert names == ["tinyml tiny_kws_int8"]
    profile = dict(m.groups() for line in link.send_command("profile")
                   if (m := re.match(r"^m-(model|profile)-\[([^]]+)]$", line)))
    assert profile["model"] == "kws01"  # the runner's tests.yaml / dataset key, from the 49x10x1 input
    assert profile["profile"].startswith("tinyml firmware")


@pytest.mark.parametrize("runs, warmups", [(10, 1), (1, 0)], ids=["performance", "accuracy"])
def test_download_and_infer_equal_the_tflm_interpreter(link: RunnerLink, runs: int, warmups: int) -> None:
    model = load_model(TINY)
    q = model.output_tensors[0].quant
    assert q is not None
    scale, zero = float(q.scale[0]), int(q.zero_point[0])
    inputs = np.random.default_rng(runs).integers(-128, 128, (6, 490)).astype(np.int8)
    expected = TflmRunner(model.data).run(inputs.reshape(6, 49, 10, 1)).reshape(6, -1).astype(np.int32)
    assert len({tuple(row) for row in expected}) > 1  # inputs whose outputs differ
    for x, want in zip(inputs, expected, strict=True):
        assert "m-load-done" in _load(link, x.tobytes())
        lines = link.send_command(f"infer {runs} {warmups}")
        assert f"m-warmup-start-{warmups}" in lines and f"m-infer-start-{runs}" in lines
        result = _gather(lines)
        assert result["end_time"] >= result["start_time"]  # type: ignore[operator]
        # th_results prints each dequantized output truncated to three decimals
        milli = np.floor(np.float32(scale) * (want - zero).astype(np.float32) * np.float32(1000))
        assert result["results"] == (milli.astype(np.float64) / 1000).tolist()


def test_infer_without_warmup_count_runs_ten_warmups(link: RunnerLink) -> None:
    assert "m-warmup-start-10" in link.send_command("infer")  # ee_infer's defaults: n=1, w=10
    assert "m-warmup-start-10" in link.send_command("infer 2")


def test_mlperf_id_named_or_refused(tmp_path: Path) -> None:
    from tinyml.errors import TinymlError

    project = generate(TINY, get_board("qemu"), tmp_path / "named", runtime="echo", mlperf="ic01")
    assert '#define TM_MLPERF_MODEL "ic01"' in (project.path / "src/tinyml_model_config.h").read_text()
    with pytest.raises(TinymlError, match="unknown MLPerf Tiny model id 'kws99'; choose one of kws01, vww01"):
        generate(TINY, get_board("qemu"), tmp_path / "bad", runtime="echo", mlperf="kws99")
    assert not (tmp_path / "bad").exists()  # refused before anything is written
