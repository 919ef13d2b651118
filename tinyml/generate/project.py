"""``tinyml generate``: an int8 .tflite -> a PlatformIO project for a board.

The project is self-contained: generated sources (model array, model facts, op resolver, board
facts, linker script where the port needs one) rendered from ``templates/``, and the static
firmware — protocol core, the board's port, the runtime — copied from ``firmware/``. The same
model gives the same bytes. Before anything is written the model must fit the board.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tinyml import console
from tinyml.audio.detect import DetectConfig
from tinyml.boards import Board
from tinyml.errors import DoesNotFitError, TinymlError
from tinyml.generate.frontend import front_end_for
from tinyml.generate.mlperf import mlperf_id
from tinyml.generate.ops import OpRegistration, registrations
from tinyml.generate.render import c_identifier, render
from tinyml.platform import platform_for
from tinyml.platform.fit import Fit, check_runtime
from tinyml.resources import data_dir
from tinyml.tflite.interpreters import tflm_arena_size
from tinyml.tflite.model import Tensor, TfliteModel, load_model, require_full_int8

MARKER = ".tinyml-project.json"
BYTES_PER_LINE = 12


@dataclass(frozen=True)
class ModelFacts:
    name: str
    source_name: str
    sha256: str
    size: int
    data: bytes
    input: Tensor
    output: Tensor
    labels: tuple[str, ...]
    ops: tuple[OpRegistration, ...]
    host_arena: int
    mlperf_id: str  # `profile%` answers m-model-[this]: an MLPerf Tiny id, else the model name


@dataclass(frozen=True)
class GeneratedProject:
    path: Path
    board: Board
    runtime: str
    files: tuple[str, ...]
    arena_bytes: int


def _labels_for(model_path: Path, model: TfliteModel, labels: list[str] | None) -> tuple[str, ...]:
    n = model.output_tensors[0].elements
    if labels is None:
        run_config = model_path.parent / "run.json"
        labels = (json.loads(run_config.read_text())["labels"] if run_config.is_file()
                  else [f"class_{i}" for i in range(n)])
    if len(labels) != n:
        raise TinymlError(f"{len(labels)} labels for a model with {n} outputs; pass exactly {n} with --labels")
    return tuple(labels)


def _name_from_file(model_path: Path) -> str:
    """A C identifier from the file name: ``kws.v2-int8.tflite`` -> ``kws_v2_int8``."""
    name = re.sub(r"\W", "_", model_path.stem, flags=re.ASCII).strip("_") or "model"
    name = f"m_{name}" if name[0].isdigit() else name
    try:
        return c_identifier(name, "model name")
    except TinymlError:
        return c_identifier(f"{name}_model", "model name")


def model_facts(model_path: Path, name: str | None = None, labels: list[str] | None = None,
                mlperf: str | None = None) -> ModelFacts:
    model = load_model(model_path)
    require_full_int8(model, str(model_path))
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise TinymlError(f"{model_path}: {len(model.inputs)} inputs and {len(model.outputs)} outputs; the firmware "
                          "supports single-input, single-output models")
    ops = tuple(registrations(model, str(model_path)))
    name = c_identifier(name, "--name") if name else _name_from_file(model_path)
    return ModelFacts(name, model_path.name, hashlib.sha256(model.data).hexdigest(), len(model.data), model.data,
                      model.input_tensors[0], model.output_tensors[0], _labels_for(model_path, model, labels), ops,
                      tflm_arena_size(model.data), mlperf_id(model.input_tensors[0], mlperf) or name)


def _refuse(facts: ModelFacts, verdict: Fit) -> DoesNotFitError:
    return DoesNotFitError(f"{facts.source_name} does not fit — {verdict.describe()} (SRAM counts the arena and the "
                           f"{verdict.input_bytes} B input buffer); choose a bigger board, a smaller model or the "
                           "other --runtime (`tinyml analyze --board` shows where the memory goes)")


def _hex_lines(data: bytes) -> list[str]:
    return [", ".join(f"0x{b:02x}" for b in data[i : i + BYTES_PER_LINE]) + ","
            for i in range(0, len(data), BYTES_PER_LINE)]


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file() and not force:
        raise TinymlError(f"{out} is not empty and is not a tinyml project; choose a new --out folder")


def generate(model_path: Path, board: Board, out: Path, runtime: str = "native", name: str | None = None,
             labels: list[str] | None = None, force: bool = False, weights: str = "auto",
             detect: DetectConfig | None = None, mlperf: str | None = None, energy: bool = False) -> GeneratedProject:
    check_runtime(runtime)
    if energy and board.energy is None:
        raise TinymlError(f"{board.id} has no MLPerf energy mode: its board file names no timestamp pin; add an "
                          f"`energy:` section to {board.source.name} (boards/README.md) or leave out --energy")
    platform = platform_for(board)
    out = Path(out)
    _prepare_out(out, force)
    facts = model_facts(Path(model_path), name, labels, mlperf)
    front_end = front_end_for(Path(model_path), facts.input)
    placement = platform.place(load_model(Path(model_path)), runtime, weights=weights, name=facts.name,
                               source_name=facts.source_name, where=str(model_path), tflm_arena=facts.host_arena,
                               front_end=front_end.need if front_end else None)
    if not placement.fit.fits:
        raise _refuse(facts, placement.fit)
    arena = placement.need.arena_bytes

    files: dict[str, str] = {}
    # an energy build: the board's energy defines (timestamp GPIO) on top of, and overriding, the port's
    en = board.energy if energy else None
    defines = dict(board.defines) | (dict(en.defines) if en else {})
    defines_map = {k.upper(): v for k, v in defines.items()}
    ctx = {"model": facts, "board": board, "runtime": runtime, "arena_bytes": arena, "defines_map": defines_map,
           "defines": list(defines.items()), "energy": en, "baud": en.baud if en else board.baud,
           "arena_alloc": platform.arena_alloc(runtime, arena), "fe": front_end, "detect": detect or DetectConfig()}
    files["src/tinyml_model_config.h"] = render("common/tinyml_model_config.h.j2", **ctx)
    if front_end is not None:
        files["src/tinyml_frontend_config.h"] = render("frontend/tinyml_frontend_config.h.j2", **ctx)
        files["src/tinyml_frontend_tables.c"] = render("frontend/tinyml_frontend_tables.c.j2", **ctx)
    files["src/tinyml_board.h"] = render("common/tinyml_board.h.j2", **ctx)
    for target, template in platform.templates.items():
        files[target] = render(template, **ctx)
    tflm = platform.tflm_library()
    if runtime == "tflm":
        files["src/model_data.h"] = render("tflm/model_data.h.j2", symbol="g_model_data", **ctx)
        files["src/model_data.cc"] = render("tflm/model_data.cc.j2", symbol="g_model_data",
                                            hex_lines=_hex_lines(facts.data), **ctx)
        files["src/tinyml_ops.h"] = render("tflm/tinyml_ops.h.j2", ops=facts.ops, **ctx)
    files.update(platform.extra_files(runtime, ctx))
    if placement.native is not None:
        files.update({f"src/{n}": text for n, text in placement.native.sources.items()})
    files["platformio.ini"] = render("platformio.ini.j2", platform=platform.platformio_platform(),
                                     tflm_lib=tflm.lib_dep, tflm_note=tflm.note,
                                     extra_flags=platform.build_flags(runtime, files), **ctx)

    copies = {**_static_files(platform.firmware_port, runtime, front_end is not None, board.microphone),
              **platform.static_files()}
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale(out, set(files) | set(copies))
    for rel, text in files.items():
        _write_if_changed(out / rel, text.encode())
    for rel, src in copies.items():
        _write_if_changed(out / rel, src.read_bytes())
    listing = sorted([*files, *copies])
    _write_if_changed(out / MARKER, (json.dumps({"board": board.id, "runtime": runtime, "model_sha256": facts.sha256,
                                                 "files": listing}, indent=2) + "\n").encode())
    mode = f", MLPerf energy mode: {en.baud} baud, timestamps on {en.pin}" if en else ""
    native = placement.native
    has_conv = native is not None and any(ly.kind == "conv" for ly in native.layers)
    layout = f", {native.weight_layout} conv weights" if native is not None and has_conv else ""
    if native is not None and native.winograd_convs:
        layout += f" ({len(native.winograd_convs)} by Winograd F(2x2, 3x3))"
    console.info(f"generated {board.id} project ({runtime}{layout}, arena {arena} B, {len(listing)} files{mode}) "
                 f"in {out}")
    return GeneratedProject(out, board, runtime, tuple(listing), arena)


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Files a previous generate wrote (another runtime or board) that this one does not: they would be built."""
    marker = out / MARKER
    if not marker.is_file():
        return
    for rel in json.loads(marker.read_text()).get("files", []):
        if rel not in keep and (out / rel).is_file():
            (out / rel).unlink()


def _write_if_changed(path: Path, data: bytes) -> None:
    """Unchanged files keep their timestamps, so re-generating an unchanged model rebuilds nothing."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _static_files(port: str, runtime: str, front_end: bool, microphone: str | None) -> dict[str, Path]:
    fw = data_dir("firmware")
    mapping = {"core": fw / "core", "port": fw / "ports" / port, "runtime": fw / "runtime" / runtime}
    if front_end:
        mapping["frontend"] = fw / "frontend"
        if microphone:  # only a model that hears needs the board's microphone
            mapping["mic"] = fw / "mics" / microphone
    copies: dict[str, Path] = {}
    for dest, folder in mapping.items():
        if not folder.is_dir():
            raise TinymlError(f"tinyml has no firmware for {dest} '{folder.name}'; reinstall tinyml")
        for src in sorted(folder.iterdir()):
            if src.is_file() and src.suffix in (".c", ".cc", ".cpp", ".h"):
                copies[f"src/tinyml/{dest}/{src.name}"] = src
    return copies
