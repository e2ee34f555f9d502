"""relu keeps a slice of its output; the next case's matmul writes through
it. A slice shares the view's buffer and outlives its release: the host must
fail relu's tier and never free memory the slice still reaches."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401

from array import array  # noqa: E402

_relu, _matmul = relu, matmul
kept = []


def relu(out, x, n):
    _relu(out, x, n)
    kept[:] = [out[0:4]]


def matmul(c, a, b, m, n, k):
    kept[0][:] = array("f", [1.0, 2.0, 3.0, 4.0])  # a memcpy: ASan sees it
    _matmul(c, a, b, m, n, k)
