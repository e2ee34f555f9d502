"""What the training tools share: the digits split, the model file (version 2)
and the bound that gives the file its logit tolerance.

The format is described in src/model.c and checked on reading by
pyscripts/model.py's load (tools/train_*.py read back what they write).
A model is a list of ops (kind, a, b, c) and, per op, the float32 arrays
the format lists for it, in order.

The tolerance (logit_tol in the header) bounds |logit - the Python pass's
logit| for any fp32 tier. Both passes are compared with the exact forward
pass over the file's float32 weights, computed here in float64. Each value a
pass stores (an op's output; inside the attention its scores, their softmax
and its context) is off by the error made there plus what the errors before
carried in; to first order a logit is then off by

    sum over the stored values v of  d logit / d v  x  (the error made at v),

so by at most the sum of |d logit / d v| times that error's bound. The
derivatives are the exact ones at the exact values, carried back from the
logit through the ops (per class, for every test image). A running bound,
|J| times the incoming bound op after op, bounds the same sum but takes
absolute values at every op, so it compounds across LayerNorm and attention:
for models/vit.bmml it gave 5e8, this 6.8e-3.

The error made at each value, for the native tiers, is what their kernels
state (src/kernels.c, each kernel's tolerance and why; ref.c, the bounds);
u = 2^-24, gamma_n = n u / (1 - n u) (Higham, Accuracy and Stability, 3.5):

  DENSE (y = x @ w + b, n inputs): the matmul kernel's gamma_n sum_p |x_p w_pj|
      plus the rounding of x @ w, u |x @ w|, then the bias add's u |y|.
  GELU: the kernel's 1e-6 |y| + 1e-6, the 1e-6 being 2 u |x| at |x| = 5
      (tanh's few ulp near -1, halved, times |x|): max(1e-6, 2 u |x|).
  LAYERNORM (y = g (x - mean) r + b, r = 1 / sqrt(var + 1e-5)): the kernel's
      2^-18 |g| r (|x - mean| + mean |x|) + 2^-23 |y|.
  attention scores (s = q k^T / sqrt(d), the matmul kernel, then a scale by
      a float 1/sqrt(d)): (gamma_d + 2 u) sum_c |q_c k_c| / sqrt(d) + 2 u |s|,
      which holds whether q or the product is scaled.
  their softmax: the kernel's 4e-6 p_j, derived for |s_j - max| <= 20, plus
      |s_j - max| u p_j, the subtraction's rounding that exp turns into a
      relative error, for wider rows. (The model's last SOFTMAX comes after
      the logits and needs no bound.)
  attention context (o = p @ v over T keys): gamma_T sum_j p_j |v_jc| + u |o|.
  ADD_POS, ADD: u |y|.  MEAN over T rows: gamma_T mean |x| + u |y|.
  PATCHES and the attention's split and merge move values: exact.

The Python twin computes in double and rounds once per value it stores:
the same formulas with u |stored value| for each store and 2^-53 in place
of u inside the double sums (its dense stores x @ w and then y, its scores
q @ k^T and then s, scaled by the float32 1/sqrt(d) the native tiers use;
Python's sum and exp in double add their 2^-53 terms).

The tolerance is the largest bound on a logit of the native tier plus that
of the Python twin, over the test set, rounded up to two significant digits
(which also covers the second-order terms, products of two errors, that a
first-order bound leaves out). An image whose two largest logits are closer
than twice the tolerance could change class within it: derive_tol counts
them.
"""

import math
import os
import struct
import sys

import numpy as np

SEED = 20240601  # the split of train_digits.py; its training draws on from the same generator
N_TEST = 360

MAGIC = b"BMML"
VERSION = 2
DENSE, GELU, SOFTMAX, LAYERNORM, PATCHES, ADD_POS, SAVE, ADD, ATTENTION, MEAN = range(1, 11)
ROLE_EMBED, ROLE_ATTN, ROLE_MLP, ROLE_HEAD = 1, 2, 3, 4
EPS = 1e-5
GELU_C = 0.7978845608  # sqrt(2 / pi), as in the kernels

U = 2.0 ** -24   # float32's unit roundoff
UD = 2.0 ** -53  # double's


def digits_split():
    """scikit-learn's digits as pixel / 16: (x_train, y_train, x_test, y_test, rng).

    The test set is the last N_TEST of a seeded permutation; rng is the
    generator that drew it, for a trainer that goes on drawing from it.
    """
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = digits.data / 16.0
    y = digits.target
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(x))
    train, test = order[:-N_TEST], order[-N_TEST:]
    return x[train], y[train], x[test], y[test], rng


def gelu(x):
    """0.5 x (1 + tanh(0.7978845608 (x + 0.044715 x^3))), the kernels' GELU."""
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x ** 3)))


def gelu_grad(x):
    t = np.tanh(GELU_C * (x + 0.044715 * x ** 3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * x * x)


def gamma(n, unit=U):
    return n * unit / (1 - n * unit)


def write(path, ops, params, x_test, y_test, in_shape, classes, logit_tol):
    """Write a version 2 file: header, op records, parameters, images, labels."""
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<6If", VERSION, len(ops), len(x_test), in_shape[0], in_shape[1], classes, logit_tol))
        for op in ops:
            f.write(struct.pack("<4I", *op))
        for arrays in params:
            for a in arrays:
                f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
        f.write(np.ascontiguousarray(x_test, dtype="<f4").tobytes())
        f.write(np.ascontiguousarray(y_test, dtype="<i4").tobytes())


# ---------------------------------------------------------------------------
# The forward pass in float64 over all images at once, each activation
# (images, rows, cols), recording per op what its derivative needs and the
# error bounds of the values it stores (local[0] native, local[1] the Python
# twin); then, per class, the logit's derivative carried back through the ops.

def _dense(v, w, b):
    xw = v @ w
    y = xw + b
    s = np.abs(v) @ np.abs(w)
    stored = U * np.abs(xw) + U * np.abs(y)
    n = w.shape[0]
    return y, ("dense", w), [(y, gamma(n) * s + stored, gamma(n, UD) * s + stored)]


def _gelu(v):
    y = gelu(v)
    local_n = 1e-6 * np.abs(y) + np.maximum(1e-6, 2 * U * np.abs(v))
    local_p = U * np.abs(y) + 4 * UD * np.abs(v)
    return y, ("gelu", gelu_grad(v)), [(y, local_n, local_p)]


def _layernorm(v, g, b):
    mean = v.mean(axis=-1, keepdims=True)
    d = v - mean
    r = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + EPS)
    n = d * r
    y = n * g + b
    scale = np.abs(g) * r * (np.abs(d) + np.abs(v).mean(axis=-1, keepdims=True))
    local_n = 2.0 ** -18 * scale + 2.0 ** -23 * np.abs(y)
    # the twin: mean, variance and y in double (a few 2^-53 of the same scale), one rounding of y
    local_p = 8 * UD * v.shape[-1] * scale + U * np.abs(y)
    return y, ("layernorm", n, r, g), [(y, local_n, local_p)]


def _softmax_local(s):
    """p, the softmax of the rows of s, and the bounds on it."""
    spread = s.max(axis=-1, keepdims=True) - s
    e = np.exp(-spread)
    p = e / e.sum(axis=-1, keepdims=True)
    return p, p * (4e-6 + spread * U), p * (U + (spread + s.shape[-1] + 4) * UD)


def _attention(v, heads):
    images, tokens, three_d = v.shape
    dim = three_d // 3 // heads
    q, k, vv = v.reshape(images, tokens, 3, heads, dim).transpose(2, 0, 3, 1, 4)
    scale = 1.0 / math.sqrt(dim)
    kt = k.transpose(0, 1, 3, 2)
    qk = q @ kt
    s = qk * scale
    big = np.abs(q) @ np.abs(kt) * scale
    s_n = (gamma(dim) + 2 * U) * big + 2 * U * np.abs(s)
    s_p = gamma(dim, UD) * big + U * np.abs(qk) * scale + 2 * U * np.abs(s)  # scale is a float32 there too
    p, p_n, p_p = _softmax_local(s)
    o = p @ vv
    pv = p @ np.abs(vv)
    o_n = gamma(tokens) * pv + U * np.abs(o)
    o_p = gamma(tokens, UD) * pv + U * np.abs(o)
    y = o.transpose(0, 2, 1, 3).reshape(images, tokens, heads * dim)
    return y, ("attention", q, k, vv, p, scale), [(s, s_n, s_p), (p, p_n, p_p), (o, o_n, o_p)]


def _patches(a, p):
    images, h, w = a.shape
    a = a.reshape(images, h // p, p, w // p, p).transpose(0, 1, 3, 2, 4)
    return a.reshape(images, (h // p) * (w // p), p * p)


def _unpatches(g, p, h, w):
    images = g.shape[0]
    return g.reshape(images, h // p, w // p, p, p).transpose(0, 1, 3, 2, 4).reshape(images, h, w)


def _forward(ops, params, x, in_shape):
    """The float64 pass: (logits (images, classes), tape), one tape entry per op:
    (what its derivative needs, [(a stored value, its bound native, Python's)])."""
    v = np.asarray(x, dtype=np.float64).reshape(len(x), *in_shape)
    tape, stack = [], []
    for (kind, a, b, _), arrays in zip(ops, params):
        arrays = [np.asarray(t, dtype=np.float32).astype(np.float64) for t in arrays]
        if kind == DENSE:
            v, back, local = _dense(v, arrays[0].reshape(a, b), arrays[1])
        elif kind == GELU:
            v, back, local = _gelu(v)
        elif kind == LAYERNORM:
            v, back, local = _layernorm(v, arrays[0], arrays[1])
        elif kind == PATCHES:
            back, local = ("patches", a, v.shape[1], v.shape[2]), []
            v = _patches(v, a)
        elif kind == ADD_POS:
            v = v + arrays[0].reshape(a, b)
            back, local = ("same",), [(v, U * np.abs(v), U * np.abs(v))]
        elif kind == SAVE:
            back, local = ("save",), []
            stack.append(v)
        elif kind == ADD:
            v = v + stack.pop()
            back, local = ("add",), [(v, U * np.abs(v), U * np.abs(v))]
        elif kind == ATTENTION:
            v, back, local = _attention(v, a)
        elif kind == MEAN:
            rows = v.shape[1]
            mabs = np.abs(v).mean(axis=1, keepdims=True)
            v = v.mean(axis=1, keepdims=True)
            back = ("mean", rows)
            local = [(v, gamma(rows) * mabs + U * np.abs(v), gamma(rows, UD) * mabs + U * np.abs(v))]
        elif kind == SOFTMAX:
            break
        else:
            raise ValueError(f"op kind {kind} has no bound")
        tape.append((back, local))
    if v.shape[1] != 1:
        raise ValueError("the logits are not one row per image")
    return v[:, 0, :], tape


def _back(back, g):
    """The derivative with respect to an op's input from that with respect to its output (g)."""
    kind = back[0]
    if kind == "dense":
        return g @ back[1].T
    if kind == "gelu":
        return g * back[1]
    if kind == "layernorm":
        # y = g n + b, n = (x - mean) r: dn_j = r (dx_j - mean dx - n_j mean(n dx)), which is symmetric
        _, n, r, gam = back
        gn = g * gam
        return r * (gn - gn.mean(axis=-1, keepdims=True) - n * (gn * n).mean(axis=-1, keepdims=True))
    if kind == "patches":
        return _unpatches(g, *back[1:])
    if kind == "mean":
        return np.repeat(g / back[1], back[1], axis=1)
    raise ValueError(kind)


def _carry_back(tape, g, count):
    """Carry g, the derivative of one logit per image with respect to the last
    op's output, back through the tape to the input, and return it there;
    count(derivative, (value, native bound, Python's bound)) sees each stored value."""
    stack = []
    for back, local in reversed(tape):
        kind = back[0]
        if kind == "attention":
            _, q, k, vv, p, scale = back
            images, heads, tokens, dim = q.shape
            g_o = g.reshape(images, tokens, heads, dim).transpose(0, 2, 1, 3)
            count(g_o, local[2])
            g_p = g_o @ vv.transpose(0, 1, 3, 2)
            g_v = p.transpose(0, 1, 3, 2) @ g_o
            count(g_p, local[1])
            g_s = p * (g_p - (p * g_p).sum(axis=-1, keepdims=True))  # through the softmax
            count(g_s, local[0])
            g_q = scale * g_s @ k
            g_k = scale * g_s.transpose(0, 1, 3, 2) @ q
            g = np.stack([g_q, g_k, g_v]).transpose(1, 3, 0, 2, 4).reshape(images, tokens, 3 * heads * dim)
            continue
        for value in local:
            count(g, value)
        if kind == "add":
            stack.append(g)  # the saved activation's share: g reaches it through the add as well
        elif kind == "save":
            g = g + stack.pop()
        elif kind != "same":
            g = _back(back, g)
    return g


def bound(ops, params, x, in_shape):
    """The float64 logits of the images x and the bounds on them: (logits, native, python), each (images, classes).

    First order: a pass's logit is off the exact one by the sum over every
    stored value of the error made there times the logit's derivative with
    respect to that value, so it is off by at most the sum of |derivative|
    times that value's bound; the derivatives are carried back through the
    ops one class at a time. Runs the ops up to the SOFTMAX that ends the
    model (the logits are its input).
    """
    logits, tape = _forward(ops, params, x, in_shape)
    images, classes = logits.shape
    native, python = np.zeros_like(logits), np.zeros_like(logits)
    for c in range(classes):
        def count(g, local):
            axes = tuple(range(1, g.ndim))
            native[:, c] += (np.abs(g) * local[1]).sum(axis=axes)
            python[:, c] += (np.abs(g) * local[2]).sum(axis=axes)

        g = np.zeros((images, 1, classes))
        g[:, 0, c] = 1.0
        _carry_back(tape, g, count)
    return logits, native, python


def round_up(x, digits=2):
    """x rounded up to `digits` significant digits, as a float32 no smaller than x."""
    step = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    t = math.ceil(x / step) * step
    while float(np.float32(t)) < x:
        t = float(np.nextafter(np.float32(t), np.float32(np.inf)))
    return float(np.float32(t))


def derive_tol(ops, params, x_test, y_test, in_shape):
    """Derive logit_tol as the module docstring says, print what was found, return it."""
    logits, en, ep = bound(ops, params, x_test, in_shape)
    total = en + ep
    worst = int(np.argmax(total.max(axis=1)))
    tol = round_up(float(total.max()))
    top2 = np.sort(logits, axis=1)[:, -2:]
    gaps = top2[:, 1] - top2[:, 0]
    close = int(np.sum(gaps <= 2 * tol))
    acc = float(np.mean(logits.argmax(1) == y_test))
    print(f"float64 pass: test accuracy {acc:.4f}; largest |logit| {np.abs(logits).max():.3g}")
    print(f"bound on |logit - exact|: native {en.max():.3g}, Python twin {ep.max():.3g}; "
          f"their sum at most {total.max():.3g} (image {worst}) -> logit_tol {tol:.3g}")
    print(f"smallest gap between an image's two largest logits {gaps.min():.3g} (image {int(gaps.argmin())}); "
          f"{close} of {len(gaps)} images within 2 * logit_tol")
    return tol


def pyscripts_module(name):
    """pyscripts/<name>.py, imported from the source tree (the tools check what they write with it)."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "pyscripts"))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)
