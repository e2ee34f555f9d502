"""Small functions that let the tests look at the embedding from the Python side."""

import sys

kept = []


def write_marker(out, x, n):
    """Write 42 into out[0] and x[0] + 1 into out[1]: shows both directions of sharing."""
    out[0] = 42.0
    out[1] = x[0] + 1.0


def keep_view(out, x, n):
    """Keep the view past the call, as a careless script might."""
    kept.append(out)


def use_kept_view():
    """Touch the kept view: it must have been released, so this raises ValueError."""
    try:
        kept[0][0] = 1.0
    except ValueError:
        return
    raise AssertionError("a view outlived its case and still reaches the host's memory")


def raise_error(out, x, n):
    raise RuntimeError("raised on purpose")


def call_exit(out, x, n):
    sys.exit(7)


def formats(out, x, n):
    """The views' formats and lengths, written back as floats: 'f' is 102."""
    out[0] = float(ord(out.format))
    out[1] = float(len(x))
    out[2] = float(x.readonly)


def keep_slice(out, x, n):
    """Keep a slice of out: it shares the view's buffer and outlives its release."""
    kept.append(out[0:2])


def use_kept_slice():
    """Write through the kept slice: only sound if the host kept the memory."""
    kept[-1][0] = 3.0


def keep_exporter(out, x, n):
    """Keep the object behind the view, to ask it for a new buffer later."""
    kept.append(out.obj)


def view_kept_exporter():
    """A new view of the kept object must be refused once the call is over."""
    try:
        memoryview(kept[-1])
    except BufferError:
        return
    raise AssertionError("the memory behind a finished call handed out a new buffer")
