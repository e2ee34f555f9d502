"""relu does the work on its first call and returns at once on the later
ones: the warm-up passes, so only a check of every timed call fails it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401

_relu = relu
_calls = 0


def relu(out, x, n):
    global _calls
    _calls += 1
    if _calls == 1:
        _relu(out, x, n)
