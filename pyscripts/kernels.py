"""The pure-Python twins of bmml's kernels: the readable spec.

bmml-host calls these on its own memory: every argument named out, x, a, b,
c, gamma, beta, q, k or v is a flat, row-major memoryview over a C buffer (format 'f' for float32,
'b' for int8, 'i' for int32), followed by the sizes. Output first, then
inputs, then sizes. A kernel writes only its output and leaves its inputs
untouched, so every repetition does the same work.

Standard library only. Each twin is the fastest plain-Python form of the same
algorithm as the native kernels (local names, slices, comprehensions), so the
measured cost of the interpreter is not inflated by a straw man. Python floats
are doubles: the twins compute in double and round once when they store.
"""

import math
from array import array
from operator import mul


def relu(out, x, n):
    """relu(x) = 0 if x < 0 else x, so NaN and -0.0 pass through."""
    for i, v in enumerate(x[:n]):
        out[i] = 0.0 if v < 0.0 else v


def softmax(out, x, n):
    """softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x)).

    Subtracting the max keeps exp from overflowing.
    """
    if n == 0:
        return
    exp = math.exp
    hi = max(x[:n])
    e = [exp(v - hi) for v in x[:n]]
    scale = 1.0 / sum(e)
    for i, v in enumerate(e):
        out[i] = v * scale


def gelu(out, x, n):
    """GELU, tanh approximation: 0.5 x (1 + tanh(0.7978845608 (x + 0.044715 x^3)))."""
    tanh = math.tanh
    for i, v in enumerate(x[:n]):
        out[i] = 0.5 * v * (1.0 + tanh(0.7978845608 * (v + 0.044715 * v * v * v)))


def matmul(c, a, b, m, n, k):
    """a (m,k) @ b (k,n) -> c (m,n), float32 in and out.

    c[i][j] = sum over p of a[i][p] * b[p][j], in order of p, in double.
    The columns of b are gathered once; each element is then one dot product
    that map and sum run without a Python-level loop per term: the fastest
    plain-Python form measured (the i-k-j order over rows, and the textbook
    i-j-k triple loop, both took longer).
    """
    cols = list(zip(*[b[p * n:(p + 1) * n].tolist() for p in range(k)])) if k else [()] * n
    for i in range(m):
        arow = a[i * k:(i + 1) * k].tolist()
        # a memoryview takes a slice of its own format
        c[i * n:(i + 1) * n] = array('f', [sum(map(mul, arow, col)) for col in cols])


def matmul_int8(c, a, b, m, n, k):
    """a (m,k) @ b (k,n) -> c (m,n): int8 in, int32 out, exact.

    The same dot products as matmul; Python's integers never overflow, and
    |c| <= k * 128 * 128 fits int32 for the sizes bmml runs.
    """
    cols = list(zip(*[b[p * n:(p + 1) * n].tolist() for p in range(k)])) if k else [()] * n
    for i in range(m):
        arow = a[i * k:(i + 1) * k].tolist()
        c[i * n:(i + 1) * n] = array('i', [sum(map(mul, arow, col)) for col in cols])


def layernorm(out, x, gamma, beta, rows, cols):
    """x (rows, cols) -> out: per row, (x - mean) / sqrt(var + 1e-5) * gamma + beta.

    var is the biased (population) variance, taken in a second pass as the
    mean of (x - mean)^2, which cannot cancel as E[x^2] - mean^2 can.
    """
    if cols == 0:
        return
    sqrt = math.sqrt
    g = gamma[:cols].tolist()
    b = beta[:cols].tolist()
    for i in range(rows):
        row = x[i * cols:(i + 1) * cols].tolist()
        mean = sum(row) / cols
        d = [v - mean for v in row]
        rstd = 1.0 / sqrt(sum(map(mul, d, d)) / cols + 1e-5)
        out[i * cols:(i + 1) * cols] = array('f', [t * rstd * gg + bb for t, gg, bb in zip(d, g, b)])


def attention(out, q, k, v, heads, seq, dim):
    """q, k, v (heads, seq, dim) -> out: per head, softmax(q k^T / sqrt(dim)) v.

    The three steps, per query row: the scores q_i . k_j / sqrt(dim), their
    softmax (subtract the row's max for numerical stability), and the sum of
    the rows of v weighted by it. The keys and the columns of v are gathered
    once per head, so each score and each output is one sum of map(mul, ...).
    """
    if seq == 0 or dim == 0:
        return
    exp = math.exp
    scale = 1.0 / math.sqrt(dim)
    for h in range(heads):
        base = h * seq * dim
        keys = [k[base + j * dim:base + (j + 1) * dim].tolist() for j in range(seq)]
        cols = list(zip(*[v[base + j * dim:base + (j + 1) * dim].tolist() for j in range(seq)]))
        for i in range(seq):
            qi = q[base + i * dim:base + (i + 1) * dim].tolist()
            scores = [sum(map(mul, qi, kj)) * scale for kj in keys]
            hi = max(scores)
            p = [exp(s - hi) for s in scores]
            inv = 1.0 / sum(p)
            out[base + i * dim:base + (i + 1) * dim] = array('f', [sum(map(mul, p, col)) * inv for col in cols])
