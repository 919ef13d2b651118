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
    assert {c.word for c in scan(dest, ("yes", "no")).clips} == {"yes", "no", "cat"}
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


def test_data_speech_commands_is_the_verified_cached_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyml.datasets.download import cached_speech_commands

    path, digest = _archive(tmp_path)
    monkeypatch.setenv("TINYML_CACHE", str(tmp_path / "cache"))
    archive = Archive(path.as_uri(), digest, "sc.tar.gz")
    dest = cached_speech_commands(archive=archive)
    assert dest == tmp_path / "cache" / "sc" and (dest / "validation_list.txt").is_file()
    path.unlink()  # the second call needs neither the network nor the archive source
    assert cached_speech_commands(archive=archive) == dest


def test_offline_speech_commands_names_the_synthetic_alternative(tmp_path: Path) -> None:
    from tinyml.datasets.download import cached_speech_commands

    unreachable = Archive("http://127.0.0.1:9/speech_commands_v0.02.tar.gz", "0" * 64, "sc.tar.gz")
    with pytest.raises(DownloadError, match=r"cannot download .*offline, use --data synth"):
        cached_speech_commands(tmp_path / "cache", unreachable)
    assert not (tmp_path / "cache" / "sc").exists()


def test_kws_data_folder_prefers_a_real_folder_named_speech_commands(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyml.datasets.download import kws_data_folder

    monkeypatch.chdir(tmp_path)
    assert kws_data_folder("my-data") == Path("my-data")
    (tmp_path / "speech-commands").mkdir()
    assert kws_data_folder("speech-commands") == Path("speech-commands")  # the user's folder, no download
