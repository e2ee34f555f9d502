"""Twins for the interrupt tests: relu is real, matmul stands for a kernel
that runs far longer than anyone waits, so a signal always finds it running.
gelu is real in the first pass over the cases and sleeps like matmul from the
second on (a call after relu has run again), so a signal finds a later pass."""

import math
import os
import time


_relu_calls = 0
_relu_calls_at_first_gelu = None


def relu(out, x, n):
    global _relu_calls
    _relu_calls += 1
    for i, v in enumerate(x[:n]):
        out[i] = 0.0 if v < 0.0 else v


def _sleep():
    marker = os.environ.get("BMML_TEST_MARKER")
    if marker:
        open(marker, "w").close()  # tells the test the kernel is running
    # Short sleeps in a loop, as a kernel runs bytecode after bytecode: the
    # interpreter looks for a signal between them. One long sleep would miss a
    # signal that landed after that look and before the sleep began.
    for _ in range(360000):
        time.sleep(0.01)


def matmul(c, a, b, m, n, k):
    _sleep()


def gelu(out, x, n):
    global _relu_calls_at_first_gelu
    if _relu_calls_at_first_gelu is None:
        _relu_calls_at_first_gelu = _relu_calls
    if _relu_calls > _relu_calls_at_first_gelu:
        _sleep()
    for i, v in enumerate(x[:n]):
        out[i] = 0.5 * v * (1.0 + math.tanh(0.7978845608 * (v + 0.044715 * v * v * v)))
