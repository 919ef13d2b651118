from __future__ import annotations

import json

import typer
from rich.table import Table

from tinyml.boards import all_boards
from tinyml.console import stdout
from tinyml.platform import platform_for


def boards(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the supported boards and their budgets."""
    rows = all_boards()
    if as_json:
        print(json.dumps([{"id": b.id, "aliases": list(b.aliases), "name": b.name, "family": b.family,
                           "core": b.core, "clock_mhz": b.clock_mhz, "flash_bytes": b.flash_bytes,
                           "sram_bytes": b.sram_bytes, "target": platform_for(b).target_label,
                           "platformio_board": b.platformio.board} for b in rows], indent=2))
        return
    table = Table(title="tinyml boards")
    for col in ("board", "aliases", "MCU", "core", "MHz", "flash", "SRAM", "target"):
        table.add_column(col, justify="right" if col in ("MHz", "flash", "SRAM") else "left")
    for b in rows:
        table.add_row(b.id, ", ".join(b.aliases), b.mcu, b.core, str(b.clock_mhz), f"{b.flash_bytes // 1024} KB",
                      f"{b.sram_bytes // 1024} KB", platform_for(b).target_label)
    stdout.print(table)
