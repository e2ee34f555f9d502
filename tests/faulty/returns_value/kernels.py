"""relu returns its result instead of writing it into out: the host must say so."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401


def relu(out, x, n):
    return [0.0 if v < 0.0 else v for v in x[:n]]
