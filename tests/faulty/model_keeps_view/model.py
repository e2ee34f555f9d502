"""The real step functions, but the first call of dense keeps a slice of its
output and of its weights, and every attn_split writes through both. Run on
a model without attention, then on one with it, in one process: the first
model's memory must outlive its run (a slice outlives the view's release),
or the second model's attn_split writes into freed memory."""

import os
import sys
from array import array

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import model_twins as _model  # noqa: E402
from model_twins import *  # noqa: E402,F401,F403

kept = []


def dense(y, x, w, b, rows, n_in, n_out):
    _model.dense(y, x, w, b, rows, n_in, n_out)
    if not kept:
        kept[:] = [y[0:4], w[0:4]]


def attn_split(q, kt, v, qkv, images, tokens, heads, dim):
    for view in kept:
        view[:] = array("f", [1.0, 2.0, 3.0, 4.0])  # a memcpy: ASan sees it
    _model.attn_split(q, kt, v, qkv, images, tokens, heads, dim)
