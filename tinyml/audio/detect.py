"""Streaming keyword detection settings: how the firmware turns a stream of per-stride model outputs
into detections (TFLM micro_speech's RecognizeCommands, in integers so device and host agree
exactly).

Every ``every_strides`` strides (20 ms each) the model runs on the latest 1 s of features. The
last ``window`` raw int8 outputs are kept; once at least ``min_count`` are there, the label whose
summed score (q - zero point) is highest is the candidate. A keyword (not ``_silence_`` or
``_unknown_``) is *heard* when its mean probability reaches ``threshold`` and no detection was
reported in the last ``suppression_ms``. The C side is ``firmware/frontend/tinyml_detect.c``; its
constants come from :class:`DetectConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyml.audio import features
from tinyml.errors import TinymlError

NOT_KEYWORDS = ("_silence_", "_unknown_")


@dataclass(frozen=True)
class DetectConfig:
    every_strides: int = 2  # run the model every 40 ms (a Cortex-M4 at 168 MHz keeps up with ~half the time)
    averaging_ms: int = 600  # outputs averaged over this much audio
    threshold: float = 0.6  # mean probability a keyword needs
    suppression_ms: int = 1500  # quiet time after a detection
    min_count: int = 3  # outputs needed before any detection

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise TinymlError(f"detection threshold {self.threshold} must be a probability in (0, 1], e.g. 0.6")
        if self.every_strides < 1 or self.min_count < 1 or self.averaging_ms < 0 or self.suppression_ms < 0:
            raise TinymlError("detection settings must be positive (every_strides, min_count) or >= 0 (ms)")

    @property
    def stride_ms(self) -> float:
        return 1000.0 * features.STRIDE / features.SAMPLE_RATE

    @property
    def window(self) -> int:
        """Outputs averaged (at least ``min_count``)."""
        return max(self.min_count, round(self.averaging_ms / (self.stride_ms * self.every_strides)))

    def threshold_q(self, output_scale: float) -> int:
        """The threshold as a sum of ``window`` int8 scores above the zero point (integer compare)."""
        return round(self.threshold / output_scale)

    def is_keyword(self, labels: tuple[str, ...]) -> tuple[bool, ...]:
        return tuple(label not in NOT_KEYWORDS for label in labels)
