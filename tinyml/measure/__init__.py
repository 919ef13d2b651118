"""Measurements on a device (real or emulated) over the serial protocol: latency and memory
(``bench``), and on-device outputs against the host reference (``validate``)."""
