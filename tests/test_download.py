"""The download path on a local archive (file:// URL): same code as the real download."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from tinyml.audio.wav import write_wav
from tinyml.datasets.download import Archive, download_speech_commands, extract, fetch
from tinyml.datasets.speech_commands import scan
from tinyml.errors import DatasetError, DownloadError

from .conftest import tone


def _archive(tmp_path: Path) -> tuple[Path, str]:
    src = tmp_path / "src"
    for word in ("yes", "no", "cat"):
        (src / word).mkdir(parents=True)
        write_wav(src / word / "abcd1234_nohash_0.wav", tone(440), 16000)
    (src / "validation_list.txt").write_text("no/abcd1234_nohash_0.wav\n")
    (src / "testing_list.txt").write_text("")
    path = tmp_path / "sc.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for item in sorted(src.rglob("*")):
            tar.add(item, arcname=str(item.relative_to(src)), recursive=False)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verify_extract(tmp_path: Path) -> None:
    path, digest = _archive(tmp_path)
    archive = Archive(path.as_uri(), digest, "sc.tar.gz")
    dest = download_speech_commands(tmp_path / "dataset", tmp_path / "cache", archive)
    assert (tmp_path / "cache" / "sc.tar.gz").is_file()
    assert {c.word for c in scan(dest).clips} == {"yes", "no", "cat"}
    # a second call reuses what is there
    assert download_speech_commands(dest, tmp_path / "cache", archive) == dest


def test_checksum_mismatch_keeps_the_file_and_says_what_to_do(tmp_path: Path) -> None:
    path, _ = _archive(tmp_path)
    with pytest.raises(DownloadError, match=r"failed verification.*corrupt"):
        fetch(Archive(path.as_uri(), "0" * 64, "sc.tar.gz"), tmp_path / "cache" / "sc.tar.gz")
    assert (tmp_path / "cache" / "sc.tar.gz.part.corrupt").is_file()
    assert not (tmp_path / "cache" / "sc.tar.gz").exists()


def test_unreachable_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="cannot download"):
        fetch(Archive((tmp_path / "missing.tar.gz").as_uri(), "0" * 64, "x"), tmp_path / "x.tar.gz")


def test_extract_refuses_path_traversal_and_non_empty_dest(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(DownloadError):
        extract(evil, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match="not empty"):
        extract(evil, busy)


def test_corrupt_archive(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DownloadError, match="not a readable"):
        extract(bad, tmp_path / "out")
