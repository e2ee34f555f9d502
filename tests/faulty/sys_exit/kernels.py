"""relu calls sys.exit(0): the host must not end, the tier fails."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401


def relu(out, x, n):
    sys.exit(0)
