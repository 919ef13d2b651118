"""A non-editable install must carry boards/, templates/ and firmware/ inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_data_folders(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("tinyml-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for board in (ROOT / "boards").glob("*.yaml"):
        assert f"tinyml/_data/boards/{board.name}" in names
    assert "tinyml/_data/templates/README.md" in names
    assert "tinyml/_data/firmware/README.md" in names
    assert "tinyml/cli/main.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tinyml = tinyml.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
