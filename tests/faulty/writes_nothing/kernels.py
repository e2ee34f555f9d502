"""relu returns at once: the output keeps the host's poison and must fail."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401


def relu(out, x, n):
    pass
