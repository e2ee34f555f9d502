"""relu raises after writing half its output: the tier fails with the text."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401


def relu(out, x, n):
    for i in range(n // 2):
        out[i] = x[i]
    raise RuntimeError("relu raised on purpose")
