"""A bmml model's steps the NumPy way: model.py's step functions, same names and arguments.

Each argument is a flat memoryview over bmml-host's memory (float32) or a
size; numpy.frombuffer makes arrays over the views without a copy, and each
step writes its result into y in place, in float32 throughout. model.py
describes the steps and composes them (forward(m, x, images, numpy_model)).
"""

import numpy as np

import numpy_kernels

layernorm = numpy_kernels.layernorm  # layernorm(y, x, gamma, beta, rows, cols)


def _f32(view, count, *shape):
    return np.frombuffer(view, dtype=np.float32, count=count).reshape(shape or (count,))


gelu = numpy_kernels.gelu  # gelu(y, x, n); y is never x (the host writes GELU to a buffer of its own)


def dense(y, x, w, b, rows, n_in, n_out):
    out = _f32(y, rows * n_out, rows, n_out)
    np.matmul(_f32(x, rows * n_in, rows, n_in), _f32(w, n_in * n_out, n_in, n_out), out=out)
    out += _f32(b, n_out)


def softmax_rows(y, x, rows, cols):
    xs, out = _f32(x, rows * cols, rows, cols), _f32(y, rows * cols, rows, cols)
    np.subtract(xs, xs.max(axis=1, keepdims=True), out=out)  # subtract the max for numerical stability
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)


def patches(y, x, images, h, w, p):
    grid = _f32(x, images * h * w, images, h // p, p, w // p, p)
    np.copyto(_f32(y, images * h * w, images, h // p, w // p, p, p), grid.transpose(0, 1, 3, 2, 4))


def add_pos(y, x, pos, images, n):
    np.add(_f32(x, images * n, images, n), _f32(pos, n), out=_f32(y, images * n, images, n))


def add(y, a, b, n):
    np.add(_f32(a, n), _f32(b, n), out=_f32(y, n))


def attn_split(q, kt, v, qkv, images, tokens, heads, dim):
    n = images * tokens * heads * dim
    parts = _f32(qkv, 3 * n, images, tokens, 3, heads, dim)
    np.copyto(_f32(q, n, images, heads, tokens, dim), parts[:, :, 0].transpose(0, 2, 1, 3))
    np.copyto(_f32(kt, n, images, heads, dim, tokens), parts[:, :, 1].transpose(0, 2, 3, 1))
    np.copyto(_f32(v, n, images, heads, tokens, dim), parts[:, :, 2].transpose(0, 2, 1, 3))


def attn_scores(s, q, kt, groups, tokens, dim):
    out = _f32(s, groups * tokens * tokens, groups, tokens, tokens)
    np.matmul(_f32(q, groups * tokens * dim, groups, tokens, dim),
              _f32(kt, groups * dim * tokens, groups, dim, tokens), out=out)
    out *= np.float32(1.0 / np.sqrt(dim))


def attn_context(o, p, v, groups, tokens, dim):
    np.matmul(_f32(p, groups * tokens * tokens, groups, tokens, tokens),
              _f32(v, groups * tokens * dim, groups, tokens, dim), out=_f32(o, groups * tokens * dim, groups, tokens, dim))


def attn_merge(y, o, images, tokens, heads, dim):
    n = images * tokens * heads * dim
    np.copyto(_f32(y, n, images, tokens, heads, dim), _f32(o, n, images, heads, tokens, dim).transpose(0, 2, 1, 3))


def mean_rows(y, x, images, rows, cols):
    np.mean(_f32(x, images * rows * cols, images, rows, cols), axis=1, out=_f32(y, images * cols, images, cols))
