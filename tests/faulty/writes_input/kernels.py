"""relu is right but scribbles on its input: the tier fails, and the tiers
after it must still get the input the reference was computed from."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401

_relu = relu


def relu(out, x, n):
    _relu(out, x, n)
    x[0] = 12345.0
