"""Two tinyml runs on one folder: the second gets one line naming the first's PID, nothing is
corrupted, and the lock is gone when its owner ends — however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml.cli.main import main
from tinyml.locking import FolderInUseError, folder_lock

HOLD = ("import sys, time\nfrom tinyml.locking import folder_lock\n"
        "with folder_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n")


def test_second_deploy_on_the_same_work_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(work / "kws")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert main(["deploy", "kws", "--work", str(work), "--epochs", "1"]) == 1
        err = capsys.readouterr().err
        assert f"in use by tinyml (PID {holder.pid})" in err and len(err.strip().splitlines()) == 1
        assert not (work / "kws" / "synth-kws").exists()
    finally:
        holder.send_signal(signal.SIGKILL)  # the kernel releases the lock with the process
        holder.wait()
    with folder_lock(work / "kws"):
        pass


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    with (folder_lock(tmp_path / "run"), pytest.raises(FolderInUseError, match=f"PID {os.getpid()}"),
          folder_lock(tmp_path / "run")):
        pass
    with folder_lock(tmp_path / "run"):
        pass
    assert not (tmp_path / "run").exists()  # the folder itself is not created or touched by the lock
