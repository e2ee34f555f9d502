"""relu is off by one everywhere: verification must fail it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401


def relu(out, x, n):
    for i, v in enumerate(x[:n]):
        out[i] = (0.0 if v < 0.0 else v) + 1.0
