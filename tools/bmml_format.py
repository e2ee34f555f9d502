"""What the training tools share: the digits split, the model file (version 2)
and the bound that gives the file its logit tolerance.

The format is described in src/model.c and checked on reading by
pyscripts/model.py's load (tools/train_*.py read back what they write).
A model is a list of ops (kind, a, b, c) and, per op, the float32 arrays
the format lists for it, in order.

The tolerance (logit_tol in the header) bounds |logit - the Python pass's
logit| for any fp32 tier. Both passes are compared with the exact forward
pass over the file's float32 weights, computed here in float64, and the
bound is first order: an error e entering an op leaves it as |J| e, J the
op's derivative at the exact values, plus the error the op itself makes.
For each op the native tiers' own error is what their kernels state
(src/kernels.c, each kernel's tolerance and why; ref.c, the bounds); u = 2^-24,
gamma_n = n u / (1 - n u) (Higham, Accuracy and Stability, 3.5):

  DENSE (y = x @ w + b, n inputs): the matmul kernel's gamma_n sum_p |x_p w_pj|
      plus the rounding of x @ w, u |x @ w|, then the bias add's u |y|;
      incoming: sum_p e_p |w_pj|.
  GELU: the kernel's 1e-6 |y| + 1e-6, the 1e-6 being 2 u |x| at |x| = 5
      (tanh's few ulp near -1, halved, times |x|): max(1e-6, 2 u |x|);
      incoming: e times the largest |GELU'| on [x - e, x + e], which is at
      most |GELU'(x)| + e max |GELU''|.
  LAYERNORM (n = (x - mean) r, r = 1 / sqrt(var + 1e-5), y = g n + b, C
      columns): the kernel's 2^-18 |g| r (|x - mean| + mean |x|) + 2^-23 |y|;
      incoming: |g_j| r (e_j + mean e + |n_j| mean(|n| e)), from
      dn_j = r (dx_j - mean dx - n_j mean(n dx)).
  attention scores (s = q k^T / sqrt(d), the matmul kernel, then a scale by
      a float 1/sqrt(d)): (gamma_d + 2 u) sum_c |q_c k_c| / sqrt(d) + 2 u |s|,
      which holds whether q or the product is scaled; incoming:
      sum_c (e_qc |k_c| + |q_c| e_kc) / sqrt(d).
  softmax (the attention's rows; the model's last op, after the logits,
      needs no bound): the kernel's 4e-6 p_j, derived for |s_j - max| <= 20,
      plus |s_j - max| u p_j, the subtraction's rounding that exp turns into
      a relative error, for wider rows; incoming: p_j (e_j + sum_l p_l e_l).
  attention context (o = p @ v over T keys): gamma_T sum_j p_j |v_jc| + u |o|;
      incoming: sum_j (e_pj |v_jc| + p_j e_vjc).
  ADD_POS, ADD: u |y|; incoming: the sum of the two.
  MEAN over T rows: gamma_T mean |x| + u |y|; incoming: mean e.
  PATCHES and the attention's split and merge move values: exact.

The Python twin computes in double and rounds once per value it stores:
the same formulas with u |stored value| for each store and 2^-53 in place
of u inside the double sums (its dense stores x @ w and then y, its scores
q @ k^T and then s; Python's sum and exp in double add their 2^-53 terms).

The tolerance is the largest bound on a logit of the native tier plus that
of the Python twin, over the test set, rounded up to two significant digits
(which also covers the second-order terms, products of two errors, that a
first-order bound leaves out). An image whose two largest logits are closer
than twice the tolerance could change class within it: derive_tol counts
them.
"""

import math
import struct
import sys
import os

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


def _gelu_grad2_max():
    # max |GELU''| over the line: GELU'' decays like x exp(-x^2 / 2), so
    # [-10, 10] holds it; central differences on a fine grid, a little over
    x = np.linspace(-10, 10, 400001)
    g = gelu_grad(x)
    return float(np.max(np.abs(np.diff(g)) / (x[1] - x[0]))) * 1.01


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
# The forward pass in float64 with the two error bounds, over all images at
# once: each activation is (images, rows, cols) of values, and of bounds for
# the native tiers (en) and for the Python twin (ep).

def _dense(v, en, ep, w, b):
    xw = v @ w
    y = xw + b
    s = np.abs(v) @ np.abs(w)
    aw = np.abs(w)
    n = w.shape[0]
    en = en @ aw + gamma(n) * s + U * np.abs(xw) + U * np.abs(y)
    ep = ep @ aw + gamma(n, UD) * s + U * np.abs(xw) + U * np.abs(y)
    return y, en, ep


def _gelu(v, en, ep, g2max):
    y = gelu(v)
    g1 = np.abs(gelu_grad(v))
    local_n = 1e-6 * np.abs(y) + np.maximum(1e-6, 2 * U * np.abs(v))
    local_p = U * np.abs(y) + 4 * UD * np.abs(v)
    return y, (g1 + en * g2max) * en + local_n, (g1 + ep * g2max) * ep + local_p


def _layernorm(v, en, ep, g, b):
    mean = v.mean(axis=-1, keepdims=True)
    d = v - mean
    r = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + EPS)
    n = d * r
    y = n * g + b
    scale = np.abs(g) * r

    def carry(e):
        return scale * (e + e.mean(axis=-1, keepdims=True) + np.abs(n) * (np.abs(n) * e).mean(axis=-1, keepdims=True))

    local_n = 2.0 ** -18 * scale * (np.abs(d) + np.abs(v).mean(axis=-1, keepdims=True)) + 2.0 ** -23 * np.abs(y)
    # the twin: mean, variance and y in double (a few 2^-53 of the same scale), one rounding of y
    local_p = 8 * UD * v.shape[-1] * scale * (np.abs(d) + np.abs(v).mean(axis=-1, keepdims=True)) + U * np.abs(y)
    return y, carry(en) + local_n, carry(ep) + local_p


def _softmax(s, en, ep):
    """Rows of the last axis; returns p and the two bounds."""
    spread = s.max(axis=-1, keepdims=True) - s
    e = np.exp(-spread)
    p = e / e.sum(axis=-1, keepdims=True)

    def carry(err):
        return p * (err + (p * err).sum(axis=-1, keepdims=True))

    cols = s.shape[-1]
    local_n = p * (4e-6 + spread * U)
    local_p = p * (U + (spread + cols + 4) * UD)
    return p, carry(en) + local_n, carry(ep) + local_p


def _attention(v, en, ep, heads):
    images, tokens, three_d = v.shape
    dm = three_d // 3
    dim = dm // heads

    def split(a):  # (images, tokens, 3D) -> 3 x (images, heads, tokens, dim)
        a = a.reshape(images, tokens, 3, heads, dim).transpose(2, 0, 3, 1, 4)
        return a[0], a[1], a[2]

    q, k, vv = split(v)
    qn, kn, vn = split(en)
    qp, kp, vp = split(ep)
    scale = 1.0 / math.sqrt(dim)
    qk = q @ k.transpose(0, 1, 3, 2)
    s = qk * scale
    big = np.abs(q) @ np.abs(k).transpose(0, 1, 3, 2) * scale

    def carry_s(eq, ek):
        return (eq @ np.abs(k).transpose(0, 1, 3, 2) + np.abs(q) @ ek.transpose(0, 1, 3, 2)) * scale

    sn = carry_s(qn, kn) + (gamma(dim) + 2 * U) * big + 2 * U * np.abs(s)
    sp = carry_s(qp, kp) + gamma(dim, UD) * big + U * np.abs(qk) * scale + U * np.abs(s)
    p, pn, pp = _softmax(s, sn, sp)
    o = p @ vv
    pv = p @ np.abs(vv)

    def carry_o(epr, ev):
        return epr @ np.abs(vv) + p @ ev

    on = carry_o(pn, vn) + gamma(tokens) * pv + U * np.abs(o)
    op = carry_o(pp, vp) + gamma(tokens, UD) * pv + U * np.abs(o)

    def merge(a):  # (images, heads, tokens, dim) -> (images, tokens, heads * dim)
        return a.transpose(0, 2, 1, 3).reshape(images, tokens, dm)

    return merge(o), merge(on), merge(op)


def _patches(a, p):
    images, h, w = a.shape
    a = a.reshape(images, h // p, p, w // p, p).transpose(0, 1, 3, 2, 4)
    return a.reshape(images, (h // p) * (w // p), p * p)


def bound(ops, params, x, in_shape):
    """The float64 logits of the images x and the two bounds on them: (logits, en, ep).

    Runs the ops up to the SOFTMAX that ends the model (the logits are its input).
    """
    g2max = _gelu_grad2_max()
    v = np.asarray(x, dtype=np.float64).reshape(len(x), *in_shape)
    en = np.zeros_like(v)
    ep = np.zeros_like(v)
    stack = []
    for (kind, a, b, c), arrays in zip(ops, params):
        arrays = [np.asarray(t, dtype=np.float32).astype(np.float64) for t in arrays]
        if kind == DENSE:
            v, en, ep = _dense(v, en, ep, arrays[0].reshape(a, b), arrays[1])
        elif kind == GELU:
            v, en, ep = _gelu(v, en, ep, g2max)
        elif kind == LAYERNORM:
            v, en, ep = _layernorm(v, en, ep, arrays[0], arrays[1])
        elif kind == PATCHES:
            v, en, ep = _patches(v, a), _patches(en, a), _patches(ep, a)
        elif kind == ADD_POS:
            v = v + arrays[0].reshape(a, b)
            en, ep = en + U * np.abs(v), ep + U * np.abs(v)
        elif kind == SAVE:
            stack.append((v, en, ep))
        elif kind == ADD:
            sv, sn, sp = stack.pop()
            v = v + sv
            en, ep = en + sn + U * np.abs(v), ep + sp + U * np.abs(v)
        elif kind == ATTENTION:
            v, en, ep = _attention(v, en, ep, a)
        elif kind == MEAN:
            rows = v.shape[1]
            mabs = np.abs(v).mean(axis=1, keepdims=True)
            v = v.mean(axis=1, keepdims=True)
            en = en.mean(axis=1, keepdims=True) + gamma(rows) * mabs + U * np.abs(v)
            ep = ep.mean(axis=1, keepdims=True) + gamma(rows, UD) * mabs + U * np.abs(v)
        elif kind == SOFTMAX:
            break
        else:
            raise ValueError(f"op kind {kind} has no bound")
    n = len(x)
    return v.reshape(n, -1), en.reshape(n, -1), ep.reshape(n, -1)


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
