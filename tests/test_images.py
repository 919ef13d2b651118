from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyml.datasets.images import load_images, scan_images
from tinyml.datasets.synth_images import CLASSES, MANIFEST, SynthImageConfig, render, synthesize_images, write_png
from tinyml.errors import DatasetError


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return synthesize_images(tmp_path / "imgs", SynthImageConfig(classes=3, per_class=12, size=32, seed=2))


def test_synthetic_set_is_named_and_reused(image_folder: Path) -> None:
    manifest = json.loads((image_folder / MANIFEST).read_text())
    assert manifest["synthetic"] is True and manifest["classes"] == list(CLASSES[:3])
    assert "SYNTHETIC" in (image_folder / "README.txt").read_text()
    before = (image_folder / MANIFEST).stat().st_mtime_ns
    synthesize_images(image_folder, SynthImageConfig(classes=3, per_class=12, size=32, seed=2))
    assert (image_folder / MANIFEST).stat().st_mtime_ns == before


def test_rendering_is_deterministic() -> None:
    a = render("circle", 32, np.random.default_rng([1, 2]))
    b = render("circle", 32, np.random.default_rng([1, 2]))
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8 and np.array_equal(a, b)


def test_load_resizes_and_normalizes(image_folder: Path) -> None:
    data = load_images(image_folder, 24)
    x, y = data.splits["train"]
    assert data.classes == tuple(sorted(CLASSES[:3]))
    assert x.shape[1:] == (24, 24, 3) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert sum(len(data.splits[s][1]) for s in data.splits) == 36
    assert set(np.unique(y)) <= {0, 1, 2}


def test_png_round_trip_through_the_loader(tmp_path: Path) -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, :4] = 255
    for cls in ("a", "b"):
        (tmp_path / "train" / cls).mkdir(parents=True)
        write_png(tmp_path / "train" / cls / "x.png", img)
    data = load_images(tmp_path, 8)
    x, _ = data.splits["train"]
    np.testing.assert_allclose(x[0, :, 0], 1.0, atol=1e-5)
    np.testing.assert_allclose(x[0, :, 7], -1.0, atol=1e-5)
    assert len(data.splits["test"][1]) == 0  # split folders: no test/ given


def test_unreadable_image_is_skipped_and_counted(image_folder: Path) -> None:
    (image_folder / "circle" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (image_folder / "circle" / "empty.jpg").write_bytes(b"")
    data = load_images(image_folder, 16)
    assert data.report.skipped["unreadable image"] == 2
    assert "skipped 2 (unreadable image)" in data.report.summary()
    assert any("broken.png" in e for e in data.report.skipped_examples)


def test_empty_class_folder_is_a_clear_error(image_folder: Path) -> None:
    (image_folder / "ghost").mkdir()
    with pytest.raises(DatasetError, match=r"class folder .*ghost has no images"):
        scan_images(image_folder)


def test_missing_or_single_class_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        scan_images(tmp_path / "nope")
    (tmp_path / "only").mkdir()
    write_png(tmp_path / "only" / "a.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DatasetError, match="at least two class folders"):
        scan_images(tmp_path)
