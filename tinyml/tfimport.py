"""TensorFlow and Keras, imported lazily and once, without TensorFlow's start-up chatter.

On CPUs with AVX-512, TensorFlow 2.21 logs an info line about oneDNN through absl before absl is
initialized, which ignores ``TF_CPP_MIN_LOG_LEVEL``: it would break the rule that a user error is
one line. The import runs with C-level stderr captured; info lines are dropped, anything else
(warnings, errors) is passed on unchanged.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType

from tinyml.console import capture_c_stderr

_CHATTER = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                      r"|I\d{4} [\d:.]+ +\d+ )")


def tensorflow() -> ModuleType:
    if "tensorflow" not in sys.modules:
        with capture_c_stderr() as lines:
            import tensorflow  # noqa: F401
        for line in lines:
            if line.strip() and not _CHATTER.match(line):
                print(line, file=sys.stderr)
    return sys.modules["tensorflow"]


def keras() -> ModuleType:
    tensorflow()
    import keras as module

    return module
