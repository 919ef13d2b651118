"""The user-facing exception hierarchy.

Every error raised for a user's mistake or an environment problem derives from
:class:`TinymlError`. Its message is one line that says what is wrong and how to fix it;
the CLI prints it in red and exits non-zero. Anything else is a bug and keeps its traceback.
"""


class TinymlError(Exception):
    """A problem the user can fix; ``str(err)`` is one line naming the fix."""

    exit_code = 1


class BoardError(TinymlError):
    """Unknown board or an invalid board file."""


class DatasetError(TinymlError):
    """Missing, empty or malformed dataset."""


class AudioError(TinymlError):
    """An audio file that cannot be read (corrupt, empty, unsupported encoding)."""


class DownloadError(TinymlError):
    """A download failed or did not verify."""


class ToolMissingError(TinymlError):
    """An external program (espeak-ng, qemu-system-arm, ...) is not installed."""


class RunDirError(TinymlError):
    """A training run folder that is missing, incomplete or belongs to something else."""


class ModelError(TinymlError):
    """A model file that is not what the command needs (not TFLite, float, hybrid, ...)."""


class UnsupportedOpError(ModelError):
    """The model uses an operator the chosen runtime does not implement."""


class DoesNotFitError(TinymlError):
    """The model does not fit the board's flash or SRAM budget."""


class QuantizationError(TinymlError):
    """Conversion or quantization failed, or its optional toolchain is missing."""
