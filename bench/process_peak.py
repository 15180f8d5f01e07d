"""This process's own memory (Linux /proc): its resident size, and its peak since a reset."""

from __future__ import annotations

from pathlib import Path


def rss_peak_reset() -> int:
    """This process's resident size now, in bytes, its peak (VmHWM) reset to it."""
    Path("/proc/self/clear_refs").write_text("5")
    return status("VmRSS")


def status(field: str) -> int:
    """A size /proc/self/status gives (VmRSS, VmHWM), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)
