"""Entry point. User errors (TinymlError) print one red line and exit non-zero; anything
else is a bug and keeps its traceback."""

from __future__ import annotations

import errno
import logging
import os
import sys

import typer

from tinyml import __version__
from tinyml.cli import (
    analyze,
    boards,
    data,
    deploy,
    device,
    doctor,
    evaluate,
    generate,
    prune,
    quantize,
    search,
    tflm,
    train,
)
from tinyml.console import console
from tinyml.errors import TinymlError

# Failures of the user's filesystem (read-only, not permitted, full): one line, not a traceback.
UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)

app = typer.Typer(name="tinyml", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="From data to a measured int8 model running on a microcontroller.")
app.command("boards")(boards.boards)
app.add_typer(data.app, name="data")
app.add_typer(train.app, name="train")
app.command("quantize")(quantize.quantize)
app.command("prune")(prune.prune)
app.command("evaluate")(evaluate.evaluate)
app.command("analyze")(analyze.analyze)
app.command("search")(search.search)
app.command("generate")(generate.generate)
app.add_typer(tflm.app, name="tflm")
app.command("build")(device.build)
app.command("flash")(device.flash)
app.command("bench")(device.bench)
app.command("listen")(device.listen)
app.command("validate")(device.validate)
app.command("devices")(device.devices)
app.command("deploy")(deploy.deploy)
app.command("doctor")(doctor.doctor)


def _version(value: bool) -> None:
    if value:
        print(f"tinyml {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """From data to a measured int8 model running on a microcontroller."""


INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices are not for users
    try:
        result = app(args=argv, prog_name="tinyml", standalone_mode=False)
        if result == INTERRUPTED:  # Typer turns Ctrl-C inside a command into this exit code
            return _interrupted()
        return result if isinstance(result, int) else 0
    except TinymlError as err:
        console.print(f"[bold red]error:[/bold red] {err}", soft_wrap=True)
        return err.exit_code
    except typer.Exit as exit_:
        return exit_.exit_code
    except typer.TyperException as err:  # usage errors: Typer prints them with the usage line
        show = getattr(err, "show", None)
        if show is not None:
            show(file=sys.stderr)
        return int(err.exit_code)
    except OSError as err:
        if err.errno not in UNWRITABLE:
            raise  # a bug or an unexpected system failure: the traceback is the report
        where = f" {err.filename}" if err.filename else ""
        console.print(f"[bold red]error:[/bold red] cannot write{where} ({err.strerror}); choose a writable folder "
                      "with free space", soft_wrap=True)
        return 1
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted()


def _interrupted() -> int:
    console.print("[red]interrupted[/red] — run the same command again: training and deploy resume where "
                  "they stopped (finished epochs and stages are kept)", soft_wrap=True)
    return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
