"""The machine a benchmark ran on: its CPU's model and the features that decide how fast int8
and float kernels run, and the versions of what it ran. Speed benchmarks print `cpu_line()`
first, so that their numbers say which machine made them (the same code differs by CPU)."""

from __future__ import annotations

import os
import platform

#: CPU features that decide how fast int8 and float kernels run (benchmarks differ by CPU).
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16",
                "asimd", "asimddp", "i8mm", "sve")


def cpu_features() -> list[str]:
    """The features above that this CPU has (from /proc/cpuinfo; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(f.read().split())
    except OSError:
        return []
    return [name for name in CPU_FEATURES if name in flags]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_line() -> str:
    """The line a speed benchmark starts with, so that its numbers say which machine made them."""
    return (f"CPU: {cpu_model()}; features: {', '.join(cpu_features()) or 'none of ' + '/'.join(CPU_FEATURES)}; "
            f"{os.cpu_count()} logical CPUs")


def versions() -> dict[str, str]:
    """sorter's version and those of the libraries its speed rests on."""
    from importlib.metadata import PackageNotFoundError, version

    import cv2
    import numpy as np

    import sorter

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    tensorflow = installed("tensorflow")  # the CPU-only wheel has another name
    tensorflow = installed("tensorflow-cpu") if tensorflow == "not installed" else tensorflow
    return {"sorter": sorter.__version__, "tensorflow": tensorflow, "keras": installed("keras"),
            "ai-edge-litert": installed("ai-edge-litert"), "opencv": cv2.__version__, "numpy": np.__version__}
