"""A scripted device on a pseudo-terminal, for testing the serial Target and Session against
behaviours real boards have: answering, silence, garbage, half a line, and resetting mid-command."""

from __future__ import annotations

import os
import threading
import time


class FakeDevice:
    """Serves the slave end of a pty (``self.port``) from a thread, per ``mode``."""

    def __init__(self, mode: str = "good") -> None:
        self.mode = mode
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self._slave = slave  # kept open so the pty survives until close()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _write(self, text: str) -> None:
        os.write(self.master, text.encode())

    def _serve(self) -> None:
        buf = b""
        while not self._stop.is_set():
            if self.mode == "flood":  # bytes without a line ending, slower than a line buffer fills
                self._write("\x55\xaa" * 8)
                time.sleep(0.05)
                continue
            if self.mode == "garbage":
                self._write("\x00\xff\x13garbage 9a8$#@!\r\n")
                time.sleep(0.01)
                continue
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            buf += chunk
            while b"%" in buf:
                cmd, buf = buf.split(b"%", 1)
                self._answer(cmd.decode(errors="replace").strip())

    def _answer(self, cmd: str) -> None:
        if self.mode == "silent":
            return
        if self.mode == "partial" and cmd == "tinyml info":
            self._write("m-tinyml-info-runt")  # and nothing more: the device hung mid-line
            return
        if self.mode == "reset" and cmd.startswith("infer"):
            self._write("m-warmup-start-0\r\nm-init-done\r\nm-ready\r\n")
            return
        if cmd == "name":
            self._write("m-name-dut-[tinyml fake]\r\nm-ready\r\n")
        elif cmd == "tinyml info":
            self._write("m-tinyml-info-runtime-native\r\nm-tinyml-info-model-fake\r\nm-tinyml-info-arena-64\r\n"
                        "m-tinyml-info-input-4\r\nm-tinyml-info-output-2\r\nm-tinyml-info-ticks-hz-1000000\r\n"
                        "m-tinyml-info-tick-unit-us\r\nm-ready\r\n")
        elif cmd.startswith("infer"):
            self._write("m-warmup-start-0\r\nm-warmup-done\r\nm-infer-start-1\r\nm-lap-us-100\r\nm-lap-us-350\r\n"
                        "m-infer-done\r\nm-tinyml-infer-ticks-250\r\nm-results-[0.500,0.500]\r\nm-tinyml-out-[0,0]\r\n"
                        "m-ready\r\n")
        else:
            self._write("m-ready\r\n")

    def close(self) -> None:
        self._stop.set()
        os.close(self.master)
        os.close(self._slave)
        self._thread.join(timeout=2)
