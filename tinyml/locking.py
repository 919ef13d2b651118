"""One tinyml at a time per working folder: an advisory lock (``flock``) on
``.<folder>.tinyml.lock`` beside the folder (its contents stay untouched), holding the owner's
PID. The kernel drops it when the process ends, however it ends, so a lock is never stale; a
second run on the same folder gets one line naming the PID instead of corrupting it."""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tinyml.errors import TinymlError


class FolderInUseError(TinymlError):
    """Another tinyml process works in this folder."""


@contextmanager
def folder_lock(folder: Path, what: str = "folder") -> Iterator[None]:
    folder = Path(folder).resolve()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder.parent / f".{folder.name}.tinyml.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise TinymlError(f"cannot use {folder} ({err.strerror}); choose a writable {what}") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise FolderInUseError(f"{folder} is in use by tinyml (PID {owner}); wait for it to finish or choose "
                                   f"another {what}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
