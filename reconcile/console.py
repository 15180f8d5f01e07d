"""What the officer sees on the console while a run works: our own progress lines (counts and
file names, never a name or ID), and on a terminal a ticking clock on the stage that is running,
so a long matching stage does not look hung."""

from __future__ import annotations

import sys
import threading
import time


class Console:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._stage = ""
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, message: str) -> None:
        self._end_tick()
        print(message, file=self.stream, flush=True)
        if self.interactive and message.startswith("["):  # a stage begins: "[2/5] …"
            self._stage = message.split(":")[0]
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        begun = time.perf_counter()
        while not self._stop.wait(1.0):
            elapsed = time.perf_counter() - begun
            bar = "#" * min(30, int(elapsed))
            print(f"\r    {bar} {elapsed:4.0f} s", end="", file=self.stream, flush=True)

    def _end_tick(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
            print("\r" + " " * 44 + "\r", end="", file=self.stream, flush=True)

    def close(self) -> None:
        self._end_tick()
