"""relu starts a thread that is not a daemon and never ends: the host must
still exit, after a bounded wait, and say so."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from twins import matmul  # noqa: E402,F401
from twins import relu as _relu  # noqa: E402

_started = []


def relu(out, x, n):
    if not _started:
        _started.append(threading.Thread(target=time.sleep, args=(3600,), name="sleeper"))
        _started[0].start()
    _relu(out, x, n)
