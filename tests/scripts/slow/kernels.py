"""Twins for the interrupt tests: relu is real, matmul stands for a kernel
that runs far longer than anyone waits, so a signal always finds it running."""

import os
import time


def relu(out, x, n):
    for i, v in enumerate(x[:n]):
        out[i] = 0.0 if v < 0.0 else v


def matmul(c, a, b, m, n, k):
    marker = os.environ.get("BMML_TEST_MARKER")
    if marker:
        open(marker, "w").close()  # tells the test the kernel is running
    time.sleep(3600)
