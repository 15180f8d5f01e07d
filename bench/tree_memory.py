"""The peak memory of a run across all its processes, sampled while it runs.

ru_maxrss gives one process's own peak: a run's main process and its helper peak at different
moments, and their sum is what the machine must hold. PSS (Linux) shares each library page
among the processes that map it; RSS counts it in each, so its sum overstates.
"""

from __future__ import annotations

import threading
import time

import psutil


class TreeMemory:
    """Peak summed PSS and RSS of this process and its children, sampled every `every` s; and
    apart, the peak RSS of this process alone and of its children together."""

    def __init__(self, every: float = 0.2):
        self.every = every
        self.peak_pss = self.peak_rss = 0
        self.peak_own_rss = self.peak_children_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            pss = rss = own = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    info = process.memory_full_info()
                except (psutil.Error, OSError):
                    continue
                rss += info.rss
                pss += getattr(info, "pss", info.rss)  # no PSS off Linux: RSS
                own = info.rss if process is me else own
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.peak_own_rss = max(self.peak_own_rss, own)
            self.peak_children_rss = max(self.peak_children_rss, rss - own)
            time.sleep(self.every)

    def __str__(self) -> str:
        return f"summed peak PSS {self.peak_pss >> 20} MB (RSS {self.peak_rss >> 20} MB)"
