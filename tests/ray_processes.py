"""Which Ray processes are alive (for the search tests and benchmarks/search.py): a killed
search must leave none behind."""

from __future__ import annotations

import os
from pathlib import Path

RAY_MARKERS = ("raylet", "gcs_server", "ray::")


def ray_processes(driver_marker: str = "tinyml.search.execute") -> list[str]:
    """Live (not zombie) processes that are Ray's, or whose command line holds ``driver_marker``
    (the search's Ray driver)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (driver_marker in cmd or any(k in cmd for k in RAY_MARKERS)):
            found.append(f"{pid}: {cmd[:120]}")
    return found
