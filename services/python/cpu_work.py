"""GET /cpu and Cpu: the classic study's long_running(n) on numpy, as
services/core/cpu_work.c mirrors it in C: a 100x100 matrix of random
doubles multiplied n times, elementwise, by (random + random), then summed
so that the work cannot be skipped. numpy's global generator gives each
request a stream of its own (it is locked: safe from threads)."""
import time

import numpy as np

MATRIX_SIDE = 100


def long_running(iterations):
    shape = (MATRIX_SIDE, MATRIX_SIDE)
    matrix = np.random.rand(*shape)
    for _ in range(iterations):
        matrix *= np.random.rand(*shape) + np.random.rand(*shape)
    return float(matrix.sum())


def cpu_reply(iterations):
    """The /cpu body: iterations, checksum (%.6g, as the C servers print
    it), elapsed_ms."""
    started_s = time.monotonic()
    checksum = long_running(iterations)
    return {"iterations": iterations, "checksum": float(f"{checksum:.6g}"),
            "elapsed_ms": round((time.monotonic() - started_s) * 1000.0, 1)}
