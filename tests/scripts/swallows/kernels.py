"""Twins for the interrupt tests: relu is real, matmul swallows every
KeyboardInterrupt and would run for ever: the host must stop it all the same."""

import os
import time


def relu(out, x, n):
    for i, v in enumerate(x[:n]):
        out[i] = 0.0 if v < 0.0 else v


def matmul(c, a, b, m, n, k):
    marker = os.environ.get("BMML_TEST_MARKER")
    if marker:
        open(marker, "w").close()  # tells the test the kernel is running
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass
