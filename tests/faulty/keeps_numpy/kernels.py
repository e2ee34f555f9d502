"""relu keeps a numpy.frombuffer array over its output; the next case's
matmul writes through it. The array holds the view's buffer, so the view
cannot be released: the host must fail relu's tier and keep the memory."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401

_relu, _matmul = relu, matmul
kept = []

try:
    import numpy
except ImportError:
    numpy = None
    sys.stderr.write("faulty case: numpy is not installed\n")


def relu(out, x, n):
    _relu(out, x, n)
    kept[:] = [numpy.frombuffer(out, dtype=numpy.float32)]


def matmul(c, a, b, m, n, k):
    kept[0][:] = 1.0
    _matmul(c, a, b, m, n, k)
