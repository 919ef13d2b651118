from __future__ import annotations

import json

import typer
from rich import box
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
                           "platformio_board": b.platformio.board, "microphone": b.microphone,
                           "energy_timestamp_pin": b.energy.pin if b.energy else None} for b in rows],
                         indent=2))
        return
    table = Table(title="tinyml boards", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    widest = max(len(b.id) for b in rows)
    table.add_column("board", no_wrap=True, min_width=widest)  # the ids users type are never cut
    table.add_column("aliases", no_wrap=True)  # one per line, never cut
    for col in ("MCU", "core"):
        table.add_column(col, overflow="ellipsis", max_width=11)
    for col in ("MHz", "flash KB", "SRAM KB"):
        table.add_column(col, justify="right")
    table.add_column("target", overflow="fold")
    for b in rows:
        target = (platform_for(b).target_label + ("\n+ mic" if b.microphone else "")
                  + (f"\n+ energy ({b.energy.pin})" if b.energy else ""))
        table.add_row(b.id, "\n".join(b.aliases), b.mcu, b.core, str(b.clock_mhz), str(b.flash_bytes // 1024),
                      str(b.sram_bytes // 1024), target)
    stdout.print(table)
