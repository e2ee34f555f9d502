"""The real twins (tests/faulty/twins.py): only model.py beside this file is faulty."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import *  # noqa: E402,F401,F403
