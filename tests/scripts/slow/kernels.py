"""Twins for the interrupt tests: relu is real, matmul stands for a kernel
that runs far longer than anyone waits, so a signal always finds it running."""

import time


def relu(out, x, n):
    for i, v in enumerate(x[:n]):
        out[i] = 0.0 if v < 0.0 else v


def matmul(c, a, b, m, n, k):
    time.sleep(3600)
