"""Nothing outlives tinyml: the emulator dies with the tinyml process whatever ends it — SIGKILL
(no handler can run), SIGTERM (`timeout N tinyml bench`), SIGHUP (a closed terminal)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinyml.boards import get_board
from tinyml.generate.project import generate
from tinyml.platform import build_project

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
START_DEADLINE_S = 60.0
DEATH_DEADLINE_S = 5.0

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None
                                or sys.platform != "linux", reason="needs the Arm toolchain, QEMU and Linux")


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _default_signals() -> None:
    """tinyml as a terminal starts it: SIGHUP and SIGTERM at their default (a test run under
    `nohup` would otherwise hand its ignored SIGHUP down, and tinyml would rightly survive it)."""
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = generate(TINY, get_board("qemu"), tmp_path_factory.mktemp("fw") / "p", runtime="native", name="tiny")
    build_project(project.path)
    return project.path


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_qemu_dies_with_tinyml(sig: signal.Signals, built_project: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tinyml", "bench", str(built_project), "--runs", "1000000",
                             "--out", str(tmp_path / "report")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_default_signals)
    try:
        until = time.monotonic() + START_DEADLINE_S
        qemu: list[int] = []
        while not qemu and time.monotonic() < until and proc.poll() is None:
            qemu = [k for k in _children(proc.pid) if "qemu" in Path(f"/proc/{k}/comm").read_text(errors="replace")]
            time.sleep(0.1)
        assert qemu, "tinyml bench never started QEMU"
        time.sleep(0.5)  # let the session start talking
        os.kill(proc.pid, sig)
        proc.wait(timeout=DEATH_DEADLINE_S)
        until = time.monotonic() + DEATH_DEADLINE_S
        while any(_alive(q) for q in qemu) and time.monotonic() < until:
            time.sleep(0.05)
        survivors = [q for q in qemu if _alive(q)]
        for q in survivors:
            os.kill(q, signal.SIGKILL)
        assert not survivors, f"QEMU {survivors} outlived tinyml after {sig.name}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
