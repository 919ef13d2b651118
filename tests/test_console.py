"""The one progress channel stays readable on an 80-column terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.progress import Progress

from tinyml.console import progress_columns


@pytest.mark.parametrize("width", [80, 100, 160])
def test_progress_line_fits_and_keeps_the_count(width: int) -> None:
    out = io.StringIO()
    con = Console(file=out, width=width, force_terminal=True, color_system=None)
    bar = Progress(*progress_columns(width), console=con, expand=width < 100, auto_refresh=False)
    task = bar.add_task("epoch 28/30", total=1234, status="loss 0.123 train acc 0.912 val acc 0.887 lr 0.0020")
    bar.update(task, completed=567)
    con.print(bar.make_tasks_table(bar.tasks))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= width
    assert "epoch 28/30" in lines[0] and "567/1234" in lines[0] and "loss 0.123" in lines[0]
