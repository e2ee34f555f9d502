"""The real step functions, but softmax_rows, the last step of a pass over
the digits model in one batch, works on its first call and returns at once
on the later ones: the checked pass is right, so only a check of every timed
pass fails it."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "pyscripts", "model.py")
_spec = importlib.util.spec_from_file_location("model_of_bmml", _path)
_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_model)
globals().update({k: v for k, v in vars(_model).items() if not k.startswith("__")})

_calls = 0


def softmax_rows(y, x, rows, cols):
    global _calls
    _calls += 1
    if _calls == 1:
        _model.softmax_rows(y, x, rows, cols)
