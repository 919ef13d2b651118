"""Download and unpack the official Speech Commands v2 archive, verified by SHA-256.

The download resumes from a ``.part`` file, is verified before it is used, and the archive
is unpacked with tarfile's ``data`` filter (no absolute paths, links out of the tree or
device files). Nothing in the destination is overwritten.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tinyml import console
from tinyml.errors import DatasetError, DownloadError

CONNECT_TIMEOUT_S = 30.0  # per network read as well
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Archive:
    url: str
    sha256: str
    name: str


SPEECH_COMMANDS_V2 = Archive(
    url="http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
    sha256="af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
    name="speech_commands_v0.02.tar.gz",
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_BLOCK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(archive: Archive, dest: Path) -> Path:
    """Download ``archive`` to ``dest`` (resuming a ``.part``) and verify it."""
    if dest.is_file():
        if sha256_of(dest) == archive.sha256:
            return dest
        raise DownloadError(f"{dest} exists but its SHA-256 does not match {archive.name}; move it away and retry")
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(archive.url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_S) as response:
            resumed = offset and getattr(response, "status", 200) == 206
            mode = "ab" if resumed else "wb"
            length = response.headers.get("Content-Length")
            total = (int(length) + (offset if resumed else 0)) if length else None
            with open(part, mode) as f, console.progress() as bar:
                task = bar.add_task(f"downloading {archive.name}", total=total,
                                    completed=offset if resumed else 0, status="")
                while chunk := response.read(_BLOCK):
                    f.write(chunk)
                    bar.advance(task, len(chunk))
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise DownloadError(f"cannot download {archive.url} ({reason}); check the network and rerun "
                            "(the download resumes)") from err
    got = sha256_of(part)
    if got != archive.sha256:
        bad = part.with_name(part.name + ".corrupt")
        part.replace(bad)
        raise DownloadError(f"{archive.name} failed verification (SHA-256 {got[:12]}…, expected "
                            f"{archive.sha256[:12]}…); kept it as {bad.name}, delete it and rerun")
    part.replace(dest)
    return dest


def extract(archive_path: Path, dest: Path) -> Path:
    """Unpack a .tar.gz into ``dest``, which must be new or empty."""
    if dest.exists() and any(dest.iterdir()):
        raise DatasetError(f"{dest} is not empty; choose a new folder for the dataset")
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(archive_path, "r:*") as tar:
            members = tar.getmembers()
            with console.progress() as bar:
                task = bar.add_task(f"extracting {archive_path.name}", total=len(members), status="")
                for member in members:
                    tar.extract(member, tmp, filter="data")
                    bar.advance(task)
    except (tarfile.TarError, EOFError, OSError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DownloadError(f"{archive_path} is not a readable .tar.gz ({err}); delete it and download again") from err
    if dest.exists():
        dest.rmdir()
    tmp.rename(dest)
    return dest


def download_speech_commands(dest: Path, cache: Path, archive: Archive = SPEECH_COMMANDS_V2) -> Path:
    """Download (cached in ``cache``), verify and unpack Speech Commands into ``dest``."""
    if (dest / "validation_list.txt").is_file():
        console.info(f"{dest} already holds Speech Commands")
        return dest
    path = fetch(archive, cache / archive.name)
    return extract(path, dest)


def default_cache() -> Path:
    """tinyml's download cache: ``$TINYML_CACHE`` or ``~/.cache/tinyml``."""
    return Path(os.environ.get("TINYML_CACHE") or Path.home() / ".cache" / "tinyml")


def kws_data_folder(data: str | Path) -> Path:
    """A KWS ``--data`` argument as a folder: ``speech-commands`` (when no folder has that name)
    is :func:`cached_speech_commands`, anything else is the folder itself."""
    if str(data) == "speech-commands" and not Path(data).is_dir():
        return cached_speech_commands()
    return Path(data)


def cached_speech_commands(cache: Path | None = None, archive: Archive = SPEECH_COMMANDS_V2) -> Path:
    """What ``--data speech-commands`` means: the verified Speech Commands v2 unpacked in the user's
    cache, downloaded (with a progress bar) the first time."""
    cache = cache or default_cache()
    dest = cache / archive.name.removesuffix(".tar.gz")
    if (dest / "validation_list.txt").is_file():
        return dest
    console.info(f"Speech Commands v2 is not in {cache} yet: downloading it once (2.3 GB)")
    try:
        return download_speech_commands(dest, cache, archive)
    except DownloadError as err:
        raise DownloadError(f"{err}; offline, use --data synth (a SYNTHETIC set generated here)") from err
