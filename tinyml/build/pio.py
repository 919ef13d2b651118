"""PlatformIO, made to work offline and quietly.

PlatformIO needs its ``tool-scons`` package before any build and cannot download it here, so it
is seeded from the ``scons`` wheel this package depends on (the layout platformio 6.2.0
expects: ``scons.py``, ``package.json`` and a ``.piopm`` naming owner ``platformio``). The
upgrade check is disabled so no command waits on the network.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

SCONS_SPEC_VERSION = "4.41101.0"  # what platformio==6.2.0 asks for (~4.41101.0), i.e. SCons 4.11.1
_SCONS_MAIN = """import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from SCons.Script import main  # noqa: E402

main()
"""


def core_dir() -> Path:
    default = Path(os.environ.get("TINYML_CACHE", Path.home() / ".cache" / "tinyml")) / "platformio"
    return Path(os.environ.get("PLATFORMIO_CORE_DIR", default))


def build_cache_dir() -> Path:
    """Object files shared by every project's builds (TFLM compiles once, not once per project)."""
    return core_dir().parent / "build-cache"


def environment() -> dict[str, str]:
    """The environment every PlatformIO call runs with."""
    return {**os.environ, "PLATFORMIO_CORE_DIR": str(core_dir()), "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true",
            "PLATFORMIO_NO_ANSI": "true",
            "PLATFORMIO_BUILD_CACHE_DIR": os.environ.get("PLATFORMIO_BUILD_CACHE_DIR", str(build_cache_dir()))}


def seed_scons(core: Path | None = None) -> Path:
    """Install PlatformIO's tool-scons package from the installed SCons (idempotent)."""
    import SCons

    target = (core or core_dir()) / "packages" / "tool-scons"
    if (target / ".piopm").is_file() and (target / "scons.py").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(SCons.__file__).parent, target / "SCons", dirs_exist_ok=True)
    (target / "scons.py").write_text(_SCONS_MAIN)
    (target / "package.json").write_text(json.dumps({"name": "tool-scons", "version": SCONS_SPEC_VERSION,
                                                     "description": "SCons seeded by tinyml"}))
    (target / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": SCONS_SPEC_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None}}))
    return target
