"""The real twins, all of them: only model.py beside this file is faulty."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "pyscripts", "kernels.py")
_spec = importlib.util.spec_from_file_location("kernels_of_bmml", _path)
_twins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_twins)
globals().update({k: v for k, v in vars(_twins).items() if not k.startswith("__")})
