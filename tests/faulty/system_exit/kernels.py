"""relu raises SystemExit, matmul KeyboardInterrupt: neither ends the host."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401


def relu(out, x, n):
    raise SystemExit("relu wants out")


def matmul(c, a, b, m, n, k):
    raise KeyboardInterrupt
