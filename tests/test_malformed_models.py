"""A malformed-.tflite corpus — truncated, bit-flipped, oversized vector lengths, bad offsets —
through `analyze` and `generate`: one clear line each (exit 1) or a model that is still sound
(exit 0); never a traceback, a crash of the TFLite Micro interpreter, or a hang. The corpus is made
from tests/data/tiny_kws_int8.tflite with fixed seeds, and run in a child process so that a crash
fails the test instead of killing the test run."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TINY = Path(__file__).parent / "data" / "tiny_kws_int8.tflite"
PER_CALL_DEADLINE_S = 30
RUNNER = """
import contextlib, io, json, signal, sys, traceback
from pathlib import Path
from tinyml.cli.main import main

def hang(*_):
    raise TimeoutError("hang")

signal.signal(signal.SIGALRM, hang)
results = []
for f in sorted(Path(sys.argv[1]).glob("*.tflite")):
    for argv in (["analyze", str(f), "--board", "qemu"], ["generate", str(f), "--out", sys.argv[2] + "/" + f.stem]):
        err = io.StringIO()
        signal.alarm(int(sys.argv[3]))
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                rc = main(argv)
            results.append({"file": f.name, "cmd": argv[0], "rc": rc, "err": err.getvalue()})
        except BaseException as e:
            results.append({"file": f.name, "cmd": argv[0], "rc": None, "err": traceback.format_exc(limit=-3)})
        signal.alarm(0)
print(json.dumps(results))
"""


def _corpus(out: Path, seed: int) -> int:
    src = TINY.read_bytes()
    n = len(src)
    rng = np.random.default_rng(seed)
    cases = {f"trunc-{cut}": src[:cut] for cut in (0, 7, 8, 16, 64, 512, n // 2, n - 1)}
    for k in range(60):
        b = bytearray(src)
        pos = int(rng.integers(n))
        b[pos] ^= 1 << int(rng.integers(8))
        cases[f"flip-{k}-{pos}"] = bytes(b)
    for k in range(60):  # oversized vector lengths and out-of-range offsets
        b = bytearray(src)
        pos = int(rng.integers(n // 4)) * 4
        b[pos : pos + 4] = struct.pack("<I", (0x7FFFFFFF, 0xFFFFFFF0, n, n + 4, 0x80000000, 1)[k % 6])
        cases[f"word-{k}-{pos}"] = bytes(b)
    cases["root-offset"] = struct.pack("<I", 0x7FFFFFF0) + src[4:]
    for name, data in cases.items():
        (out / f"{name}.tflite").write_bytes(data)
    return len(cases)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_malformed_models_get_one_line_each(seed: int, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    count = _corpus(corpus, seed)
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(corpus), str(tmp_path / "out"), str(PER_CALL_DEADLINE_S)],
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, f"the runner died (exit {proc.returncode}): {proc.stderr[-2000:]}"
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == 2 * count
    for r in results:
        assert r["rc"] in (0, 1), f"{r['cmd']} {r['file']}:\n{r['err']}"
        if r["rc"] == 1:
            lines = [line for line in r["err"].splitlines() if line.strip()]
            assert lines and lines[-1].startswith("error:") and "Traceback" not in r["err"], (r["file"], r["err"])
    refused = sum(r["rc"] == 1 for r in results)
    print(f"seed {seed}: {count} malformed models, {refused} of {len(results)} calls refused with one line")
    # a flip in weight data or padding leaves a sound model; a cut or a wild root offset never does
    assert all(r["rc"] == 1 for r in results if r["file"].startswith(("trunc-", "root-offset")))
