"""``tinyml validate``: send N int8 inputs to the device, compare its raw int8 outputs with the
TFLM host interpreter bit for bit, and report the match rate (and accuracy when labels are known)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinyml.device.session import Session
from tinyml.measure.bench import INFER_DEADLINE_S
from tinyml.tflite.interpreters import TflmRunner


@dataclass(frozen=True)
class ValidationResult:
    board: str
    runtime: str
    samples: int
    bit_exact: int  # outputs identical to the host reference
    max_abs_diff: int
    device_accuracy: float | None  # top-1 on the device, when labels were given
    host_accuracy: float | None
    measured_on: str = "random inputs"  # what the inputs are

    @property
    def match_rate(self) -> float:
        return self.bit_exact / self.samples if self.samples else 0.0

    def describe(self) -> str:
        acc = (f"; accuracy on device {self.device_accuracy:.3f} (host {self.host_accuracy:.3f})"
               if self.device_accuracy is not None and self.host_accuracy is not None else "")
        return (f"{self.bit_exact}/{self.samples} outputs bit-exact with the TFLM host interpreter "
                f"(max |diff| {self.max_abs_diff}){acc}, on {self.samples} {self.measured_on}")

    def write(self, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "validate.json"
        path.write_text(json.dumps({**asdict(self), "match_rate": self.match_rate}, indent=2) + "\n")
        return path


def validate(session: Session, model: bytes, inputs: np.ndarray, board: str,
             labels: np.ndarray | None = None, measured_on: str = "random inputs") -> ValidationResult:
    info = session.info()
    device = np.stack([session.run(x, INFER_DEADLINE_S) for x in inputs]).astype(np.int64)
    host = TflmRunner(model).run(inputs).reshape(len(inputs), -1).astype(np.int64)
    same = (device == host).all(axis=1)
    dev_acc = host_acc = None
    if labels is not None:
        dev_acc = float((device.argmax(axis=1) == labels).mean())
        host_acc = float((host.argmax(axis=1) == labels).mean())
    return ValidationResult(board, info.runtime, len(inputs), int(same.sum()), int(np.abs(device - host).max()),
                            dev_acc, host_acc, measured_on)
