"""Image-folder datasets: ``<class>/<image>`` (split by a stable hash of the file name,
80/10/10), or ``train/<class>/…`` with ``val/`` (or ``validation/``) and ``test/`` beside it.
PNG, JPEG, BMP and GIF are decoded with TensorFlow, resized (bilinear, antialiased) to a
square resolution and scaled to [-1, 1]. Unreadable files are skipped and counted."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml import console, tfimport
from tinyml.errors import DatasetError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_DIRS = {"train": ("train",), "validation": ("val", "validation"), "test": ("test",)}


@dataclass
class ImageReport:
    loaded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def summary(self) -> str:
        sizes = ", ".join(f"{split} {sum(c.values())}" for split, c in self.counts.items())
        line = f"loaded {self.loaded} images ({sizes})"
        if self.skipped:
            line += "; skipped " + ", ".join(f"{n} ({why})" for why, n in self.skipped.items())
        return line


@dataclass
class ImageData:
    classes: tuple[str, ...]
    splits: dict[str, tuple[np.ndarray, np.ndarray]]  # (N, r, r, 3) float32 in [-1, 1], (N,) int32
    report: ImageReport


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def hash_split(name: str) -> str:
    bucket = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 100
    return "validation" if bucket < 10 else "test" if bucket < 20 else "train"


def scan_images(root: Path) -> tuple[tuple[str, ...], list[tuple[Path, str, str]]]:
    """(class names, [(file, class, split)]) without decoding anything."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"image dataset {root} does not exist; create one with `tinyml data synth-images {root}`")
    split_roots = {s: next((root / d for d in dirs if (root / d).is_dir()), None) for s, dirs in SPLIT_DIRS.items()}
    layout = {s: r for s, r in split_roots.items() if r is not None} if split_roots["train"] else {"*": root}
    files: list[tuple[Path, str, str]] = []
    classes: set[str] = set()
    for split, folder in layout.items():
        for class_dir in _class_dirs(folder):
            images = _images(class_dir)
            if not images:
                raise DatasetError(f"class folder {class_dir} has no images ({', '.join(EXTENSIONS)}); add images or "
                                   "remove the folder")
            classes.add(class_dir.name)
            files += [(p, class_dir.name, hash_split(f"{class_dir.name}/{p.name}") if split == "*" else split)
                      for p in images]
    if len(classes) < 2:
        raise DatasetError(f"{root} needs at least two class folders (<class>/<image>.png); found {len(classes)}")
    return tuple(sorted(classes)), files


def fingerprint(root: Path, files: list[tuple[Path, str, str]]) -> str:
    """What a scanned folder holds, cheaply: every image's path, class, split and size (nothing is
    decoded). A folder with images added, removed, moved or replaced gets another one."""
    h = hashlib.sha256()
    for path, label, split in files:
        h.update(f"{path.relative_to(root).as_posix()}\t{label}\t{split}\t{path.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


def _decode(path: Path, resolution: int) -> np.ndarray:
    tf = tfimport.tensorflow()

    image = tf.io.decode_image(path.read_bytes(), channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32), (resolution, resolution), antialias=True)
    return (image.numpy() / 127.5 - 1.0).astype(np.float32)


def load_images(root: Path, resolution: int) -> ImageData:
    tf = tfimport.tensorflow()

    classes, files = scan_images(root)
    report = ImageReport()
    rows: dict[str, tuple[list[np.ndarray], list[int]]] = {s: ([], []) for s in SPLIT_DIRS}
    with console.progress(transient=True) as bar:
        task = bar.add_task(f"decoding images at {resolution}px", total=len(files), status="")
        for path, cls, split in files:
            bar.advance(task)
            try:
                x = _decode(path, resolution)
            except (tf.errors.InvalidArgumentError, OSError) as err:
                reason = "unreadable image" if isinstance(err, tf.errors.InvalidArgumentError) else "cannot read"
                report.skipped[reason] += 1
                if len(report.skipped_examples) < 20:
                    report.skipped_examples.append(f"{path}: {reason}")
                continue
            rows[split][0].append(x)
            rows[split][1].append(classes.index(cls))
            report.loaded += 1
    splits = {}
    for split, (xs, ys) in rows.items():
        x = np.stack(xs) if xs else np.zeros((0, resolution, resolution, 3), np.float32)
        splits[split] = (x, np.asarray(ys, dtype=np.int32))
        report.counts[split] = {classes[k]: int(v) for k, v in sorted(Counter(ys).items())}
    if len(splits["train"][1]) == 0:
        raise DatasetError(f"{root}: no readable training images; check the files")
    return ImageData(classes, splits, report)
