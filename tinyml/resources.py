"""Where the shipped data folders (boards/, templates/, firmware/) are.

In a source checkout or an editable install they sit at the repository root; in a wheel
they are packaged under ``tinyml/_data/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``boards``, ``templates`` or ``firmware``)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tinyml is installed without its {name}/ folder; reinstall the package")
