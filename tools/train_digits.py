#!/usr/bin/python3
"""Train the digits perceptron and write models/digits.bmml.

    /usr/bin/python3 tools/train_digits.py [OUT]     (default models/digits.bmml)

A multilayer perceptron 64 -> 128 (GELU) -> 10 (softmax) on scikit-learn's
digits (1,797 8x8 images, pixels 0..16), trained in NumPy with Adam on
minibatches, everything written out here. scikit-learn only loads the data.
The test set is 360 images picked by a seeded shuffle, the rest train;
inputs are pixel / 16, in [0, 1]. Seeded: the same NumPy gives the same file.

Why not simply the last 360 images: they come from writers the first 1,437
do not include, and on that split even an RBF SVM falls short of 95%, which
says more about the writers than about bmml. A shuffled
split mixes writers, as scikit-learn's train_test_split does.

The file is version 2 of the model format (src/model.c; tools/bmml_format.py
writes it): in (1, 64), DENSE 64 128, GELU, DENSE 128 10, SOFTMAX. Its
logit_tol is the bound tools/bmml_format.py derives for these weights over
the test set: how it is derived is written there.
"""

import sys

import numpy as np

import bmml_format as fmt
from bmml_format import DENSE, GELU, ROLE_HEAD, ROLE_MLP, SOFTMAX, gelu, gelu_grad

HIDDEN = 128
EPOCHS = 30
BATCH = 32
LR = 1e-3


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))  # subtract the max for numerical stability
    return e / e.sum(axis=1, keepdims=True)


def forward(params, x):
    w1, b1, w2, b2 = params
    pre = x @ w1 + b1
    return pre, gelu(pre) @ w2 + b2


def train(x, y, rng):
    n_in, n_out = x.shape[1], 10
    # He-style scale for the GELU layer, Glorot-style for the softmax layer
    params = [rng.normal(0, np.sqrt(2 / n_in), (n_in, HIDDEN)), np.zeros(HIDDEN),
              rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, n_out)), np.zeros(n_out)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    onehot = np.eye(n_out)[y]
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            xb, tb = x[idx], onehot[idx]
            w1, b1, w2, b2 = params
            pre, logits = forward(params, xb)
            h = gelu(pre)
            # cross-entropy through softmax: the gradient of the logits is p - t
            dz = (softmax(logits) - tb) / len(idx)
            dh = (dz @ w2.T) * gelu_grad(pre)
            grads = [xb.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
            step += 1
            for p, g, mi, vi in zip(params, grads, m, v):
                mi *= beta1
                mi += (1 - beta1) * g
                vi *= beta2
                vi += (1 - beta2) * g * g
                mhat = mi / (1 - beta1 ** step)
                vhat = vi / (1 - beta2 ** step)
                p -= LR * mhat / (np.sqrt(vhat) + eps)
    return params


def model(params):
    """The ops and their parameters, as the file holds them."""
    w1, b1, w2, b2 = [p.astype(np.float32) for p in params]
    ops = [(DENSE, w1.shape[0], w1.shape[1], ROLE_MLP), (GELU, 0, 0, 0),
           (DENSE, w2.shape[0], w2.shape[1], ROLE_HEAD), (SOFTMAX, 0, 0, 0)]
    return ops, [[w1, b1], [], [w2, b2], []]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "models/digits.bmml"
    x_train, y_train, x_test, y_test, rng = fmt.digits_split()
    params = train(x_train, y_train, rng)
    # judge the weights as bmml will run them: in float32
    p32 = [p.astype(np.float32) for p in params]
    _, logits = forward(p32, x_test.astype(np.float32))
    acc = float((logits.argmax(1) == y_test).mean())
    _, train_logits = forward(p32, x_train.astype(np.float32))
    train_acc = float((train_logits.argmax(1) == y_train).mean())
    print(f"train accuracy {train_acc:.4f} ({len(y_train)} images), "
          f"test accuracy {acc:.4f} ({len(y_test)} images)")
    ops, arrays = model(params)
    tol = fmt.derive_tol(ops, arrays, x_test, y_test, (1, 64))
    fmt.write(out, ops, arrays, x_test, y_test, (1, 64), 10, tol)
    fmt.pyscripts_module("model").load(out)  # read back with the loader's twin
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
