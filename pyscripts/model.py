"""A bmml model in pure Python: the loader's twin and the forward pass's steps.

A model file (version 2, described at the top of src/model.c) is a sequence
of ops over one activation matrix per image; load() reads and checks it the
way src/model.c does. bmml-host runs a model op by op and calls the step
functions below one by one, each argument a flat memoryview over its own C
memory (float32) or a size, timing each; forward() composes the same steps
for running this module on its own:

    python3 pyscripts/model.py models/vit.bmml

Standard library only. The steps are built on the twins in kernels.py, the
ones bmml-host measures one by one; numpy_model.py has the same steps in
NumPy. Output first, then inputs, then sizes, as in kernels.py.
"""

import math
import struct
import sys
from array import array
from operator import add as _add

import kernels

MAGIC = b"BMML"
VERSION = 2
HEADER_BYTES, OP_BYTES = 32, 16
MAX_OPS, MAX_TEST, MAX_DIM, MAX_CLASSES, MAX_STACK = 256, 1 << 24, 65536, 65536, 4
MAX_VALUES = 1 << 24  # in one image's activation, and in its attention scores (heads x tokens x tokens)
DENSE, GELU, SOFTMAX, LAYERNORM, PATCHES, ADD_POS, SAVE, ADD, ATTENTION, MEAN = range(1, 11)
NAMES = {DENSE: "DENSE", GELU: "GELU", SOFTMAX: "SOFTMAX", LAYERNORM: "LAYERNORM", PATCHES: "PATCHES",
         ADD_POS: "ADD_POS", SAVE: "SAVE", ADD: "ADD", ATTENTION: "ATTENTION", MEAN: "MEAN"}
USED = {DENSE: 3, GELU: 0, SOFTMAX: 0, LAYERNORM: 1, PATCHES: 1, ADD_POS: 2, SAVE: 0, ADD: 0, ATTENTION: 1, MEAN: 0}
ROLES = (1, 2, 3, 4)  # patch embedding, attention projection, MLP, classifier head


# ---------------------------------------------------------------------------
# The steps

gelu = kernels.gelu            # gelu(y, x, n)
layernorm = kernels.layernorm  # layernorm(y, x, gamma, beta, rows, cols)


def dense(y, x, w, b, rows, n_in, n_out):
    """y (rows, n_out) = x (rows, n_in) @ w (n_in, n_out) + b (n_out)."""
    kernels.matmul(y, x, w, rows, n_out, n_in)
    bias = b[:n_out].tolist()
    for r in range(0, rows * n_out, n_out):
        y[r:r + n_out] = array('f', map(_add, y[r:r + n_out].tolist(), bias))


def softmax_rows(y, x, rows, cols):
    """y (rows, cols) = softmax of each row of x (kernels.softmax per row)."""
    softmax = kernels.softmax
    for r in range(0, rows * cols, cols):
        softmax(y[r:r + cols], x[r:r + cols], cols)


def patches(y, x, images, h, w, p):
    """Each image (h, w) -> (h/p * w/p, p*p): patches in row-major order of the
    patch grid, pixels row-major within a patch."""
    order = [(pr * p + i) * w + pc * p + j
             for pr in range(h // p) for pc in range(w // p) for i in range(p) for j in range(p)]
    n = h * w
    for base in range(0, images * n, n):
        img = x[base:base + n].tolist()
        y[base:base + n] = array('f', [img[i] for i in order])


def add_pos(y, x, pos, images, n):
    """y = x + pos for each image of n = rows*cols values; y may be x."""
    pos = pos[:n].tolist()
    for base in range(0, images * n, n):
        y[base:base + n] = array('f', map(_add, x[base:base + n].tolist(), pos))


def add(y, a, b, n):
    """y = a + b over n values; y may be a."""
    y[:n] = array('f', map(_add, a[:n].tolist(), b[:n].tolist()))


def attn_split(q, kt, v, qkv, images, tokens, heads, dim):
    """qkv (images*tokens, 3*heads*dim), each row [q | k | v] ->
    q (images*heads, tokens, dim), kt (images*heads, dim, tokens), v (images*heads, tokens, dim)."""
    d = heads * dim
    hd = tokens * dim
    for i in range(images):
        rows = [qkv[(i * tokens + t) * 3 * d:(i * tokens + t + 1) * 3 * d].tolist() for t in range(tokens)]
        for h in range(heads):
            g = (i * heads + h) * hd
            qc, kc, vc = h * dim, d + h * dim, 2 * d + h * dim
            q[g:g + hd] = array('f', [x for row in rows for x in row[qc:qc + dim]])
            kt[g:g + hd] = array('f', [row[kc + c] for c in range(dim) for row in rows])
            v[g:g + hd] = array('f', [x for row in rows for x in row[vc:vc + dim]])


def attn_scores(s, q, kt, groups, tokens, dim):
    """s (groups, tokens, tokens) = q (groups, tokens, dim) @ kt (groups, dim, tokens) / sqrt(dim)."""
    tt, td = tokens * tokens, tokens * dim
    matmul = kernels.matmul
    for g in range(groups):
        matmul(s[g * tt:(g + 1) * tt], q[g * td:(g + 1) * td], kt[g * td:(g + 1) * td], tokens, tokens, dim)
    # 1 / sqrt(dim) once, in double, rounded to float32, as the C tiers scale by it
    scale = struct.unpack('f', struct.pack('f', 1.0 / math.sqrt(dim)))[0]
    s[:groups * tt] = array('f', [v * scale for v in s[:groups * tt].tolist()])


def attn_context(o, p, v, groups, tokens, dim):
    """o (groups, tokens, dim) = p (groups, tokens, tokens) @ v (groups, tokens, dim)."""
    tt, td = tokens * tokens, tokens * dim
    matmul = kernels.matmul
    for g in range(groups):
        matmul(o[g * td:(g + 1) * td], p[g * tt:(g + 1) * tt], v[g * td:(g + 1) * td], tokens, dim, tokens)


def attn_merge(y, o, images, tokens, heads, dim):
    """o (images*heads, tokens, dim) -> y (images*tokens, heads*dim): head h to columns h*dim.."""
    hd = tokens * dim
    for i in range(images):
        heads_of = [o[(i * heads + h) * hd:(i * heads + h + 1) * hd].tolist() for h in range(heads)]
        y[i * heads * hd:(i + 1) * heads * hd] = array(
            'f', [x for t in range(tokens) for oh in heads_of for x in oh[t * dim:(t + 1) * dim]])


def mean_rows(y, x, images, rows, cols):
    """y (images, cols) = the mean of each image's rows of x (images*rows, cols)."""
    n = rows * cols
    for i in range(images):
        img = x[i * n:(i + 1) * n].tolist()
        y[i * cols:(i + 1) * cols] = array('f', [sum(img[c::cols]) / rows for c in range(cols)])


# ---------------------------------------------------------------------------
# The loader

class Model:
    """What load() returns: the ops with their parameters and shapes, the test set."""

    def __init__(self, ops, params, shapes, x, labels, in_shape, classes, logit_tol):
        self.ops = ops            # [(kind, a, b, c)]
        self.params = params      # per op, a list of array('f'): its parameters in the file's order
        self.shapes = shapes      # per op, the (rows, cols) of one image's activation after it
        self.x = x                # array('f'), n_test images of in_rows * in_cols
        self.labels = labels
        self.in_shape = in_shape
        self.classes = classes
        self.logit_tol = logit_tol


def _floats(data, at, count, what):
    end = at + 4 * count
    values = array('f', data[at:end])
    if sys.byteorder != 'little':
        values.byteswap()
    if not all(map(math.isfinite, values)):
        bad = next(i for i, v in enumerate(values) if not math.isfinite(v))
        raise ValueError(f"{what}: value {bad} is not a finite number")
    return values, end


def _check_ops(ops, in_shape, classes):
    """Each op's shape rules: (the parameter counts per op, the shapes after each op)."""
    rows, cols = in_shape
    stack, counts, shapes = [], [], []
    for i, (kind, a, b, c) in enumerate(ops):
        where = f"op {i + 1}"
        if kind not in NAMES:
            raise ValueError(f"{where}: kind {kind} is not an op of version {VERSION}")
        where = f"op {i + 1} ({NAMES[kind]})"
        if any((a, b, c)[USED[kind]:]):
            raise ValueError(f"{where}: a field it does not use is not 0")
        count = []
        if kind == DENSE:
            if not (1 <= a <= MAX_DIM and 1 <= b <= MAX_DIM):
                raise ValueError(f"{where}: shape {a} x {b}; each side must be 1 to {MAX_DIM}")
            if a != cols:
                raise ValueError(f"{where} takes {a} inputs but the activation has {cols} columns")
            if c not in ROLES:
                raise ValueError(f"{where}: role {c} is not one of 1 to 4")
            count, cols = [a * b, b], b
        elif kind == SOFTMAX:
            if i != len(ops) - 1:
                raise ValueError(f"{where}: SOFTMAX must be the last op and appear only there")
        elif kind == LAYERNORM:
            if a != cols:
                raise ValueError(f"{where} normalizes {a} columns but the activation has {cols}")
            count = [a, a]
        elif kind == PATCHES:
            if not 1 <= a <= MAX_DIM or rows % a or cols % a:
                raise ValueError(f"{where}: patches of {a} do not tile an activation of {rows} x {cols}")
            rows, cols = (rows // a) * (cols // a), a * a
        elif kind == ADD_POS:
            if (a, b) != (rows, cols):
                raise ValueError(f"{where}: positions of {a} x {b} for an activation of {rows} x {cols}")
            count = [a * b]
        elif kind == SAVE:
            if len(stack) == MAX_STACK:
                raise ValueError(f"{where}: the residual stack is full ({MAX_STACK} deep)")
            stack.append((rows, cols))
        elif kind == ADD:
            if not stack:
                raise ValueError(f"{where}: the residual stack is empty")
            saved = stack.pop()
            if saved != (rows, cols):
                raise ValueError(f"{where}: adds a saved {saved[0]} x {saved[1]} to {rows} x {cols}")
        elif kind == ATTENTION:
            if not 1 <= a <= MAX_DIM or cols % 3 or (cols // 3) % a:
                raise ValueError(f"{where}: {a} heads over rows of {cols}, which must be 3 x heads x dim")
            cols //= 3
        elif kind == MEAN:
            rows = 1
        if rows * cols > MAX_VALUES or (kind == ATTENTION and a * rows * rows > MAX_VALUES):
            raise ValueError(f"{where}: one image's activation or scores would hold more than {MAX_VALUES} values")
        counts.append(count)
        shapes.append((rows, cols))
    if ops[-1][0] != SOFTMAX:
        raise ValueError("the last op is not SOFTMAX")
    if stack:
        raise ValueError(f"{len(stack)} saved activations are never added back")
    if (rows, cols) != (1, classes):
        raise ValueError(f"the ops end in {rows} x {cols}, not 1 x {classes} classes")
    return counts, shapes


def load(path):
    """Read and check a model file: a Model. Raises ValueError naming what is wrong, as model_parse does in C."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < HEADER_BYTES:
        raise ValueError(f"truncated: {len(data)} bytes, the header alone has {HEADER_BYTES}")
    if data[:4] != MAGIC:
        raise ValueError('not a bmml model: the magic is not "BMML"')
    version, n_ops, n_test, in_rows, in_cols, classes = struct.unpack_from('<6I', data, 4)
    (logit_tol,) = struct.unpack_from('<f', data, 28)
    if version != VERSION:
        raise ValueError(f"version {version}; this bmml reads version {VERSION}")
    if not 1 <= n_ops <= MAX_OPS:
        raise ValueError(f"{n_ops} ops; the format allows 1 to {MAX_OPS}")
    if not 1 <= n_test <= MAX_TEST:
        raise ValueError(f"{n_test} test images; the format allows 1 to {MAX_TEST}")
    if not (1 <= in_rows <= MAX_DIM and 1 <= in_cols <= MAX_DIM):
        raise ValueError(f"input {in_rows} x {in_cols}; each side must be 1 to {MAX_DIM}")
    if in_rows * in_cols > MAX_VALUES:
        raise ValueError(f"input {in_rows} x {in_cols}: one image would hold more than {MAX_VALUES} values")
    if not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"{classes} classes; the format allows 2 to {MAX_CLASSES}")
    if not (math.isfinite(logit_tol) and logit_tol > 0):
        raise ValueError(f"logit_tol {logit_tol} is not a finite number above 0")
    at = HEADER_BYTES + OP_BYTES * n_ops
    if len(data) < at:
        raise ValueError(f"truncated: {len(data)} bytes, the op records end at {at}")
    ops = [struct.unpack_from('<4I', data, HEADER_BYTES + OP_BYTES * i) for i in range(n_ops)]
    counts, shapes = _check_ops(ops, (in_rows, in_cols), classes)
    need = at + 4 * sum(map(sum, counts)) + 4 * n_test * in_rows * in_cols + 4 * n_test
    if len(data) < need:
        raise ValueError(f"truncated: {len(data)} bytes, the ops and the test set need {need}")
    if len(data) > need:
        raise ValueError(f"{len(data)} bytes where the ops and the test set need {need}: the shapes do not match the file")
    params = []
    for i, count in enumerate(counts):
        arrays = []
        for j, n in enumerate(count):
            values, at = _floats(data, at, n, f"op {i + 1} ({NAMES[ops[i][0]]}) parameter {j + 1}")
            arrays.append(values)
        params.append(arrays)
    x, at = _floats(data, at, n_test * in_rows * in_cols, "test images")
    labels = list(struct.unpack_from(f'<{n_test}i', data, at))
    for i, y in enumerate(labels):
        if not 0 <= y < classes:
            raise ValueError(f"label of test image {i} is {y}, not a class in 0..{classes - 1}")
    return Model(ops, params, shapes, x, labels, (in_rows, in_cols), classes, logit_tol)


# ---------------------------------------------------------------------------
# The forward pass, composed of the steps

def forward(m, x, images, steps=None):
    """Run m's ops over images (x: in_rows * in_cols float32 values each): (probs, logits), array('f') each.

    steps is the module whose step functions run (this one unless given,
    numpy_model for the NumPy way). As in bmml-host, ADD_POS and ADD write
    in place unless a saved activation (or x) is there; the other ops write
    a new buffer.
    """
    steps = steps or sys.modules[__name__]
    view = memoryview

    def new(n):
        return array('f', bytes(4 * n))

    rows, cols = m.in_shape
    cur, stack, logits = x, [], None
    for (kind, a, b, c), params, (out_rows, out_cols) in zip(m.ops, m.params, m.shapes):
        if kind == SAVE:
            stack.append(cur)
            continue
        n_in, n_out = images * rows * cols, images * out_rows * out_cols
        saved = stack.pop() if kind == ADD else None
        in_place = kind in (ADD_POS, ADD) and cur is not x and all(cur is not t for t in stack)
        y = cur if in_place else new(n_out)
        p = [view(t) for t in params]
        if kind == DENSE:
            steps.dense(view(y), view(cur), p[0], p[1], images * rows, a, b)
        elif kind == GELU:
            steps.gelu(view(y), view(cur), n_out)
        elif kind == LAYERNORM:
            steps.layernorm(view(y), view(cur), p[0], p[1], images * rows, cols)
        elif kind == PATCHES:
            steps.patches(view(y), view(cur), images, rows, cols, a)
        elif kind == ADD_POS:
            steps.add_pos(view(y), view(cur), p[0], images, rows * cols)
        elif kind == ADD:
            steps.add(view(y), view(cur), view(saved), n_in)
        elif kind == ATTENTION:
            heads, dim = a, cols // 3 // a
            groups = images * heads
            q, kt, v, o = new(n_out), new(n_out), new(n_out), new(n_out)
            s, pr = new(groups * rows * rows), new(groups * rows * rows)
            steps.attn_split(view(q), view(kt), view(v), view(cur), images, rows, heads, dim)
            steps.attn_scores(view(s), view(q), view(kt), groups, rows, dim)
            steps.softmax_rows(view(pr), view(s), groups * rows, rows)
            steps.attn_context(view(o), view(pr), view(v), groups, rows, dim)
            steps.attn_merge(view(y), view(o), images, rows, heads, dim)
        elif kind == MEAN:
            steps.mean_rows(view(y), view(cur), images, rows, cols)
        elif kind == SOFTMAX:
            logits = cur
            steps.softmax_rows(view(y), view(cur), images * rows, cols)
        cur, rows, cols = y, out_rows, out_cols
    return cur, logits


def classes_of(probs, images, classes):
    """The first largest probability's index per image, as bmml-host's argmax."""
    return [max(range(classes), key=probs[i * classes:(i + 1) * classes].__getitem__) for i in range(images)]


def accuracy(path):
    """The share of the test images the model classifies as labelled, in pure Python."""
    m = load(path)
    n = len(m.labels)
    probs, _ = forward(m, m.x, n)
    return sum(c == y for c, y in zip(classes_of(probs, n, m.classes), m.labels)) / n


if __name__ == '__main__':
    model = sys.argv[1] if len(sys.argv) > 1 else 'models/digits.bmml'
    print(f"{model}: test accuracy {accuracy(model):.4f}")
