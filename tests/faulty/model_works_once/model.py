"""The real step functions, but softmax_rows, the last step of a pass over
the digits model in one batch, works on its first call and returns at once
on the later ones: the checked pass is right, so only a check of every timed
pass fails it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import model_twins as _model  # noqa: E402
from model_twins import *  # noqa: E402,F401,F403

_calls = 0


def softmax_rows(y, x, rows, cols):
    global _calls
    _calls += 1
    if _calls == 1:
        _model.softmax_rows(y, x, rows, cols)
