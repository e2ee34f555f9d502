"""The digits perceptron in pure Python: the loader's twin and the forward pass.

bmml-host calls forward() on its own memory, each argument a flat memoryview
over a C buffer; load() reads models/digits.bmml the way src/model.c does
(the format is described at the top of that file), for running this module
on its own:

    python3 pyscripts/model.py models/digits.bmml

Standard library only. The forward pass is made of the twins in kernels.py,
the same ones bmml-host measures one by one.
"""

import struct
import sys
from array import array

from kernels import gelu, matmul, softmax

MAGIC = b"BMML"
VERSION = 1
LAYERS = 2
ACT_GELU, ACT_SOFTMAX = 1, 2
MAX_DIM, MAX_TEST = 65536, 1 << 24


def add_bias(y, b, rows, n):
    """y (rows, n) += b (n), row by row."""
    bias = b.tolist()
    for r in range(0, rows * n, n):
        y[r:r + n] = array('f', [v + bj for v, bj in zip(y[r:r + n].tolist(), bias)])


def forward(probs, logits, hidden, x, w1, b1, w2, b2):
    """x (rows, n_in) -> GELU(x @ w1 + b1) -> @ w2 + b2 = logits -> softmax per row = probs.

    The sizes follow from the views: b1 has n_hidden values, b2 n_out, w1
    n_in * n_hidden, x rows * n_in; hidden holds rows * n_hidden.
    """
    n_hidden, n_out = len(b1), len(b2)
    n_in = len(w1) // n_hidden
    rows = len(x) // n_in
    matmul(hidden, x, w1, rows, n_hidden, n_in)
    add_bias(hidden, b1, rows, n_hidden)
    gelu(hidden, hidden, rows * n_hidden)  # element by element: in place is safe
    matmul(logits, hidden, w2, rows, n_out, n_hidden)
    add_bias(logits, b2, rows, n_out)
    for r in range(0, rows * n_out, n_out):
        softmax(probs[r:r + n_out], logits[r:r + n_out], n_out)


def _floats(data, at, count, what):
    end = at + 4 * count
    values = array('f', data[at:end])
    if sys.byteorder != 'little':
        values.byteswap()
    if any(v != v or v in (float('inf'), float('-inf')) for v in values):
        raise ValueError(f"{what}: a value is not a finite number")
    return values, end


def load(path):
    """Read and check a model file: ([(w, b), ...] per layer, images, labels, shapes).

    Raises ValueError naming what is wrong, as model_parse does in C.
    """
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 20:
        raise ValueError(f"truncated: {len(data)} bytes, the header alone has 20")
    if data[:4] != MAGIC:
        raise ValueError('not a bmml model: the magic is not "BMML"')
    version, n_layers, n_test, reserved = struct.unpack_from('<4I', data, 4)
    if version != VERSION:
        raise ValueError(f"version {version}; this bmml reads version {VERSION}")
    if n_layers != LAYERS:
        raise ValueError(f"{n_layers} layers; version {VERSION} has {LAYERS}")
    if not 1 <= n_test <= MAX_TEST:
        raise ValueError(f"{n_test} test images; the format allows 1 to {MAX_TEST}")
    if reserved:
        raise ValueError("the reserved header field is not 0")
    at = 20 + 12 * LAYERS
    if len(data) < at:
        raise ValueError(f"truncated: {len(data)} bytes, the layer shapes end at {at}")
    shapes = [struct.unpack_from('<3I', data, 20 + 12 * l) for l in range(LAYERS)]
    need = at
    for l, (n_in, n_out, act) in enumerate(shapes):
        if not (1 <= n_in <= MAX_DIM and 1 <= n_out <= MAX_DIM):
            raise ValueError(f"layer {l + 1}: shape {n_in} x {n_out}; each side must be 1 to {MAX_DIM}")
        if l and n_in != shapes[l - 1][1]:
            raise ValueError(f"layer {l + 1} takes {n_in} inputs but layer {l} gives {shapes[l - 1][1]}")
        want = ACT_SOFTMAX if l == LAYERS - 1 else ACT_GELU
        if act != want:
            raise ValueError(f"layer {l + 1}: activation {act}; version {VERSION} wants {want}")
        need += 4 * (n_in * n_out + n_out)
    need += 4 * n_test * shapes[0][0] + 4 * n_test
    if len(data) != need:
        raise ValueError(f"{len(data)} bytes where the shapes in the header need {need}")
    layers = []
    for l, (n_in, n_out, _) in enumerate(shapes):
        w, at = _floats(data, at, n_in * n_out, f"layer {l + 1} weights")
        b, at = _floats(data, at, n_out, f"layer {l + 1} biases")
        layers.append((w, b))
    x, at = _floats(data, at, n_test * shapes[0][0], "test images")
    labels = list(struct.unpack_from(f'<{n_test}i', data, at))
    n_classes = shapes[-1][1]
    for i, y in enumerate(labels):
        if not 0 <= y < n_classes:
            raise ValueError(f"label of test image {i} is {y}, not a class in 0..{n_classes - 1}")
    return layers, x, labels, shapes


def accuracy(path):
    """The share of the test images the model classifies as labelled, in pure Python."""
    ((w1, b1), (w2, b2)), x, labels, shapes = load(path)
    n_test, n_hidden, n_out = len(labels), shapes[0][1], shapes[1][1]
    probs, logits = array('f', bytes(4 * n_test * n_out)), array('f', bytes(4 * n_test * n_out))
    hidden = array('f', bytes(4 * n_test * n_hidden))
    views = [memoryview(a) for a in (probs, logits, hidden, x, w1, b1, w2, b2)]
    forward(*views)
    right = 0
    for i, y in enumerate(labels):
        row = probs[i * n_out:(i + 1) * n_out]
        right += max(range(n_out), key=row.__getitem__) == y
    return right / n_test


if __name__ == '__main__':
    model = sys.argv[1] if len(sys.argv) > 1 else 'models/digits.bmml'
    print(f"{model}: test accuracy {accuracy(model):.4f}")
