"""atheris (libFuzzer for Python) target: the host's side of the protocol — line splitting
(``LineBuffer``), ``parse_line`` and the response readers — on arbitrary bytes from a device.
Anything but a ``TinymlError`` (the readers' way of saying "incomplete response") is a bug.

    python tests/fuzz/fuzz_host.py CORPUS_DIR -runs=1000000
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from tinyml.device import protocol as p
    from tinyml.device.target import LineBuffer
    from tinyml.errors import TinymlError


def test_one_input(data: bytes) -> None:
    lines = LineBuffer()
    lines.feed(data)
    events = []
    while (line := lines.pop()) is not None:
        events.append(p.parse_line(line))
    p.split_response(events)
    p.errors_in(events)
    p.info(events)
    p.layers(events)
    with contextlib.suppress(TinymlError):  # an incomplete response, said as such
        p.inference(events)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
