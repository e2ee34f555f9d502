"""relu only: matmul's python tier is unavailable, everything else runs."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul, relu  # noqa: E402,F401

del matmul
