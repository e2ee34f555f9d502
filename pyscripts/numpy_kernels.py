"""The NumPy way to write each kernel, on the same memory as every other tier.

numpy.frombuffer makes arrays over bmml-host's memoryviews without a copy, and
each function writes its result into the output with out= where NumPy allows,
so the comparison does not pay for an allocation the other tiers avoid.
Same contract as kernels.py: output first, then inputs, then sizes.
"""

import numpy as np


def _f32(view, count):
    return np.frombuffer(view, dtype=np.float32, count=count)


def relu(out, x, n):
    np.maximum(_f32(x, n), 0.0, out=_f32(out, n))


def softmax(out, x, n):
    if n == 0:
        return
    xs, y = _f32(x, n), _f32(out, n)
    np.subtract(xs, xs.max(), out=y)  # subtract the max for numerical stability
    np.exp(y, out=y)
    y *= np.float32(1.0 / y.sum(dtype=np.float64))


def gelu(out, x, n):
    xs, y = _f32(x, n), _f32(out, n)
    # 0.5 x (1 + tanh(0.7978845608 (x + 0.044715 x^3))), in float32 like the native tiers
    np.multiply(xs, xs, out=y)
    y *= np.float32(0.044715)
    y += np.float32(1.0)
    y *= xs
    y *= np.float32(0.7978845608)
    np.tanh(y, out=y)
    y += np.float32(1.0)
    y *= xs
    y *= np.float32(0.5)


def matmul(c, a, b, m, n, k):
    np.matmul(_f32(a, m * k).reshape(m, k), _f32(b, k * n).reshape(k, n),
              out=_f32(c, m * n).reshape(m, n))


def matmul_int8(c, a, b, m, n, k):
    # NumPy has no int8 -> int32 matmul: widen to int32, as a user would
    a32 = np.frombuffer(a, dtype=np.int8, count=m * k).reshape(m, k).astype(np.int32)
    b32 = np.frombuffer(b, dtype=np.int8, count=k * n).reshape(k, n).astype(np.int32)
    np.matmul(a32, b32, out=np.frombuffer(c, dtype=np.int32, count=m * n).reshape(m, n))


def layernorm(out, x, gamma, beta, rows, cols):
    # as a NumPy user writes it, in float32: the mean, the variance of the
    # deviations (two passes, no cancellation), then the scale and shift
    if cols == 0:
        return
    xs = _f32(x, rows * cols).reshape(rows, cols)
    y = _f32(out, rows * cols).reshape(rows, cols)
    np.subtract(xs, xs.mean(axis=1, keepdims=True), out=y)
    var = np.square(y).mean(axis=1, keepdims=True)
    y *= np.float32(1.0) / np.sqrt(var + np.float32(1e-5))
    y *= _f32(gamma, cols)
    y += _f32(beta, cols)


def attention(out, q, k, v, heads, seq, dim):
    # composed as a NumPy user writes it, in float32: the scores by matmul,
    # the row softmax (subtract the max for numerical stability), matmul by v
    if seq == 0 or dim == 0:
        return
    shape, n = (heads, seq, dim), heads * seq * dim
    qs, ks, vs = _f32(q, n).reshape(shape), _f32(k, n).reshape(shape), _f32(v, n).reshape(shape)
    s = np.matmul(qs, ks.transpose(0, 2, 1))
    s *= np.float32(1.0 / np.sqrt(dim))
    s -= s.max(axis=2, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=2, keepdims=True)
    np.matmul(s, vs, out=_f32(out, n).reshape(shape))

