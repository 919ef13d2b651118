"""`tinyml build`, `flash`, `bench`, `listen`, `validate`, `devices`: thin wrappers over tinyml.build,
tinyml.device and tinyml.measure."""

from __future__ import annotations

from pathlib import Path

import typer

from tinyml.console import console


def build(project: Path = typer.Argument(..., help="A project made by `tinyml generate`."),
          offline_check: bool = typer.Option(False, "--offline-check", help="Cortex-M boards: compile and link with "
                                             "the local Arm toolchain instead of the board's PlatformIO platform "
                                             "(the console driver is stood in by the host port) and check the "
                                             "board's flash/RAM.")) -> None:
    """Build PROJECT with PlatformIO (offline for the emulated board) and print its flash/RAM use."""
    from tinyml.errors import DoesNotFitError
    from tinyml.platform import build_project
    from tinyml.platform import offline_check as run_check

    if offline_check:
        with console.status("compiling and linking with arm-none-eabi-gcc"):
            check = run_check(project)
        console.print(f"{check.elf}: {check.describe()}")
        if not check.fits:
            raise DoesNotFitError(f"the firmware does not fit {check.board.id}: {check.describe()}")
        return

    with console.status("building with PlatformIO"):
        firmware = build_project(project)
    console.print(f"{firmware.elf}: flash {firmware.sizes.flash:,} B, RAM {firmware.sizes.ram:,} B")


def flash(project: Path = typer.Argument(..., help="A built project."),
          port: str | None = typer.Option(None, help="Serial port (default: found by the board's USB ids).")) -> None:
    """Build and flash PROJECT to its board (the emulated board needs no flashing: QEMU loads the ELF)."""
    from tinyml.platform import build_project, flash_project

    with console.status("building and flashing with PlatformIO"):
        firmware = build_project(project)
        what = flash_project(project, port)
    console.print(f"{firmware.elf}: {what}")


def bench(project: Path | None = typer.Argument(None, help="A built project (its board and firmware ELF)."),
          port: str | None = typer.Option(None, help="Serial port of a real board (default: by USB ids)."),
          board: str | None = typer.Option(None, help="Board id, to bench an already flashed board without its "
                                                      "project (with --port)."),
          runs: int = typer.Option(20, min=1, help="Timed single-inference runs."),
          out: Path | None = typer.Option(None, help="Folder for bench.json, bench.md, layers.svg "
                                                      "(default: PROJECT/report, or ./report).")) -> None:
    """Measure latency (median, p90, min, max), per-layer timing, flash and RAM on the device."""
    from tinyml.boards import get_board
    from tinyml.build.elf import elf_sizes
    from tinyml.errors import TinymlError
    from tinyml.measure.bench import bench as run_bench
    from tinyml.platform import project_elf, session_for

    elf: Path | None
    if project is not None:
        target_board, elf = project_elf(project)
    elif port is not None and board is not None:
        target_board, elf = get_board(board), None
    else:
        raise TinymlError("give a built project, or --port and --board for a board that is already flashed")
    from tinyml.measure.estimate import estimate_inference
    from tinyml.platform import platform_for

    cycles = None
    if elf is not None and port is None:
        with console.status("estimating cycles from one traced inference"):
            cycles = estimate_inference(platform_for(target_board), elf)
    with console.status(f"benchmarking on {target_board.id}"), session_for(target_board, elf, port) as session:
        result = run_bench(session, runs, target_board.id, elf_sizes(elf) if elf else None,
                           clock_hz=target_board.clock_hz, cycles=cycles)
    from rich.markdown import Markdown

    console.print(Markdown(result.to_markdown()))  # shown before writing: a read-only folder loses nothing
    files = result.write(out or (Path(project) / "report" if project else Path("report")))
    console.print(f"written: {', '.join(str(f) for f in files)}")


def listen(project: Path = typer.Argument(..., help="A built KWS project (generated from a `tinyml train kws` run)."),
           wav: Path | None = typer.Option(None, help="A WAV file of any length and rate (mixed to 16 kHz mono) to "
                                                      "stream; without it, a board listens to its microphone."),
           seconds: float = typer.Option(30.0, min=0.1, help="How long to listen to the microphone."),
           port: str | None = typer.Option(None, help="Serial port of a real board (default: by USB ids).")) -> None:
    """What the firmware's audio front end and detector hear: a streamed WAV, or the board's microphone."""
    from tinyml.device.protocol import Heard
    from tinyml.errors import TinymlError
    from tinyml.measure.listen import listen as run_listen
    from tinyml.measure.listen import listen_microphone, wav_pcm
    from tinyml.platform import project_elf, session_for

    target_board, elf = project_elf(project)
    if wav is None and target_board.microphone is None:
        raise TinymlError(f"{target_board.id} has no microphone (the emulated board hears audio streamed over its "
                          "UART): pass --wav FILE.wav")
    if wav is not None:
        wav_pcm(wav)  # a bad WAV fails before the device starts

    def show(h: Heard) -> None:
        console.print(f"  {h.ms / 1000:8.2f} s  heard [bold]{h.label}[/bold]  (score {h.score:.2f})")

    console.print(f"streaming {wav} to {target_board.id}" if wav else
                  f"listening to the microphone of {target_board.id} for {seconds:g} s")
    with session_for(target_board, elf, port) as session:
        result = run_listen(session, wav, show) if wav else listen_microphone(session, seconds, show)
    lost = f"; the microphone dropped {result.dropped} samples (the board fell behind)" if result.dropped else ""
    console.print(f"{len(result.heard)} detections in {result.seconds:.1f} s of audio{lost}")


def validate(project: Path = typer.Argument(..., help="A built project."),
             model: Path = typer.Option(..., help="The int8 .tflite the project was generated from."),
             run: Path | None = typer.Option(None, help="Training run: test inputs and labels from its dataset "
                                                         "(default: random inputs, no accuracy)."),
             samples: int = typer.Option(50, min=1, help="Inputs to send."),
             port: str | None = typer.Option(None, help="Serial port of a real board.")) -> None:
    """Compare on-device int8 outputs with the TFLM host interpreter bit for bit (and accuracy with --run)."""
    import numpy as np

    from tinyml.build.firmware import require_project_model
    from tinyml.deploy.pipeline import _validation_inputs
    from tinyml.errors import TinymlError
    from tinyml.measure.validate import validate as run_validate
    from tinyml.platform import project_elf, session_for
    from tinyml.tflite.model import load_model
    from tinyml.train.rundir import RunDir

    board, elf = project_elf(project)
    require_project_model(project, model)
    labels, what = None, "random inputs"
    if run is not None:
        produced = RunDir(run).int8_model
        if not produced.is_file() or produced.read_bytes() != model.read_bytes():
            raise TinymlError(f"{model} is not the int8 model of run {run} ({produced}); pass that run's model, or "
                              "the run that produced this one")
        x, labels, what = _validation_inputs(RunDir(run), model, samples)
    else:
        shape = load_model(model).input_tensors[0].shape[1:]
        x = np.random.default_rng(0).integers(-128, 128, (samples, *shape)).astype(np.int8)
    with console.status(f"validating on {board.id}"), session_for(board, elf, port) as session:
        result = run_validate(session, model.read_bytes(), x, board.id, labels, what)
    path = result.write(Path(project) / "report")
    console.print(f"{board.id}: {result.describe()} -> {path}")
    if result.bit_exact != result.samples:
        raise TinymlError(f"{result.samples - result.bit_exact} of {result.samples} outputs differ from the TFLM "
                          f"host interpreter (max |diff| {result.max_abs_diff}); see {path}")


def devices() -> None:
    """List serial ports and the boards whose USB ids match them."""
    from serial.tools import list_ports

    from tinyml.boards import all_boards

    ports = list(list_ports.comports())
    if not ports:
        console.print("no serial ports found; plug a board in (the emulated board needs none: `tinyml deploy kws`)")
        return
    console.print("port  VID:PID  description  boards")
    for port in ports:
        vid_pid = f"{port.vid:04X}:{port.pid:04X}" if port.vid is not None else "-"
        boards = [b.id for b in all_boards() if any(u.vid == port.vid and u.pid == port.pid for u in b.usb_ids)]
        console.print(f"{port.device}  {vid_pid}  {port.description}  {', '.join(boards) or '(no tinyml board)'}")
