#!/usr/bin/python3
"""Train a tiny vision transformer on the 8x8 digits and write models/vit.bmml.

    /usr/bin/python3 tools/train_vit.py [OUT]     (default models/vit.bmml)

Needs Debian's python3-torch and python3-sklearn (scikit-learn only loads
the data); run at development time only: bmml runs the file it writes.

The data are train_digits.py's: scikit-learn's digits as pixel / 16, the
same seeded 360-image test set (tools/bmml_format.py: digits_split), the
other 1,437 images train.

The model, exactly the op list the file holds (src/model.c describes the
ops), with D = 32, 4 heads of 8, an MLP of 64:
  an image (8, 8) -> PATCHES 2: 16 tokens of 4 pixels (the 2x2 patches in
  row-major order, pixels row-major within a patch) -> DENSE 4 D, the patch
  embedding -> ADD_POS, learned positions (16, D);
  two pre-LayerNorm blocks, each
    x = x + DENSE D D (ATTENTION 4 (DENSE D 3D (LAYERNORM x)))
    x = x + DENSE F D (GELU (DENSE D F (LAYERNORM x)))
  where DENSE D 3D gives each token [q | k | v] and ATTENTION is per head
  softmax(q k^T / sqrt(8)) v;
  LAYERNORM -> MEAN over the 16 tokens -> DENSE D 10, the head -> SOFTMAX.
LayerNorm is eps 1e-5 with the biased variance and GELU the tanh
approximation; both, the attention and the softmax are written out here in
torch with the kernels' formulas, so the trained weights mean in bmml what
they meant in training.

Training: AdamW (weight decay 0.05 on the matrices), batch 64, a learning
rate warmed up for 5 epochs then cosine to 0 over EPOCHS, cross-entropy with
label smoothing 0.1, and as augmentation each training image shifted by up
to one pixel each way (zeros shifted in; the digits' borders are mostly
blank). Seeded and deterministic: torch.manual_seed(SEED) for the initial
weights, a torch.Generator seeded with SEED for the order and the shifts
(SEED = 20240602; the split keeps train_digits.py's own seed), deterministic
algorithms, one thread; the same torch gives the same file.

The tolerance in the header is derived as tools/bmml_format.py says: a
first-order bound, each value a pass stores (every op's output, and the
attention's scores, softmax and context) off by at most what its kernel
states (for the Python twin, its own rounding), times |d logit / d value|
at the exact float64 values, summed over the values; the largest over the
test set, native plus Python, rounded up to two significant digits. The tool prints the bound and how many test images have their
two largest logits within twice of it; it then reads the file back with
pyscripts/model.py and checks that its pure-Python pass, and numpy_model.py's,
give torch's class on every test image with every logit within the tolerance.
"""

import math
import sys
import time

import numpy as np
import torch

import bmml_format as fmt
from bmml_format import (ADD, ADD_POS, ATTENTION, DENSE, GELU, LAYERNORM, MEAN, PATCHES, ROLE_ATTN, ROLE_EMBED,
                         ROLE_HEAD, ROLE_MLP, SAVE, SOFTMAX)

SEED = 20240602
D, HEADS, MLP, BLOCKS = 32, 4, 64, 2
SIDE, PATCH = 8, 2
TOKENS = (SIDE // PATCH) ** 2
CLASSES = 10
EPOCHS, BATCH, LR, WARMUP = 150, 64, 3e-3, 5
WEIGHT_DECAY, SMOOTHING = 0.05, 0.1


def dense_params(n_in, n_out):
    # stored as the file stores them, y = x @ w + b with w (n_in, n_out)
    w = torch.nn.Parameter(torch.randn(n_in, n_out) * math.sqrt(1.0 / n_in))
    return w, torch.nn.Parameter(torch.zeros(n_out))


def layernorm(x, g, b):
    mean = x.mean(-1, keepdim=True)
    d = x - mean
    var = (d * d).mean(-1, keepdim=True)  # biased, as the kernel
    return d / torch.sqrt(var + fmt.EPS) * g + b


def gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(fmt.GELU_C * (x + 0.044715 * x * x * x)))


def softmax(s):
    e = torch.exp(s - s.max(-1, keepdim=True).values)  # subtract the max for numerical stability
    return e / e.sum(-1, keepdim=True)


def attention(qkv, heads):
    """(B, T, 3D), rows [q | k | v] -> (B, T, D): per head softmax(q k^T / sqrt(dim)) v."""
    b, t, three_d = qkv.shape
    dim = three_d // 3 // heads
    q, k, v = qkv.reshape(b, t, 3, heads, dim).permute(2, 0, 3, 1, 4)
    p = softmax(q @ k.transpose(-1, -2) / math.sqrt(dim))
    return (p @ v).transpose(1, 2).reshape(b, t, heads * dim)


def patches(x):
    """(B, 8, 8) -> (B, 16, 4): row-major over the patch grid, row-major within a patch."""
    b = x.shape[0]
    g = SIDE // PATCH
    return x.reshape(b, g, PATCH, g, PATCH).permute(0, 1, 3, 2, 4).reshape(b, g * g, PATCH * PATCH)


class ViT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.ParameterList(dense_params(PATCH * PATCH, D))
        self.pos = torch.nn.Parameter(torch.randn(TOKENS, D) * 0.02)
        self.blocks = torch.nn.ModuleList()
        for _ in range(BLOCKS):
            blk = torch.nn.Module()
            blk.ln1 = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.zeros(D))])
            blk.qkv = torch.nn.ParameterList(dense_params(D, 3 * D))
            blk.out = torch.nn.ParameterList(dense_params(D, D))
            blk.ln2 = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.zeros(D))])
            blk.fc1 = torch.nn.ParameterList(dense_params(D, MLP))
            blk.fc2 = torch.nn.ParameterList(dense_params(MLP, D))
            self.blocks.append(blk)
        self.ln = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.zeros(D))])
        self.head = torch.nn.ParameterList(dense_params(D, CLASSES))

    def forward(self, x):
        h = patches(x) @ self.embed[0] + self.embed[1] + self.pos
        for blk in self.blocks:
            a = layernorm(h, *blk.ln1) @ blk.qkv[0] + blk.qkv[1]
            h = h + attention(a, HEADS) @ blk.out[0] + blk.out[1]
            a = gelu(layernorm(h, *blk.ln2) @ blk.fc1[0] + blk.fc1[1])
            h = h + a @ blk.fc2[0] + blk.fc2[1]
        return layernorm(h, *self.ln).mean(1) @ self.head[0] + self.head[1]

    def ops(self):
        """The model as the file holds it: the op records and each op's float32 arrays."""
        def arr(*ps):
            return [p.detach().numpy().astype(np.float32) for p in ps]

        ops = [((PATCHES, PATCH, 0, 0), []), ((DENSE, PATCH * PATCH, D, ROLE_EMBED), arr(*self.embed)),
               ((ADD_POS, TOKENS, D, 0), arr(self.pos))]
        for blk in self.blocks:
            ops += [((SAVE, 0, 0, 0), []), ((LAYERNORM, D, 0, 0), arr(*blk.ln1)),
                    ((DENSE, D, 3 * D, ROLE_ATTN), arr(*blk.qkv)), ((ATTENTION, HEADS, 0, 0), []),
                    ((DENSE, D, D, ROLE_ATTN), arr(*blk.out)), ((ADD, 0, 0, 0), []),
                    ((SAVE, 0, 0, 0), []), ((LAYERNORM, D, 0, 0), arr(*blk.ln2)),
                    ((DENSE, D, MLP, ROLE_MLP), arr(*blk.fc1)), ((GELU, 0, 0, 0), []),
                    ((DENSE, MLP, D, ROLE_MLP), arr(*blk.fc2)), ((ADD, 0, 0, 0), [])]
        ops += [((LAYERNORM, D, 0, 0), arr(*self.ln)), ((MEAN, 0, 0, 0), []),
                ((DENSE, D, CLASSES, ROLE_HEAD), arr(*self.head)), ((SOFTMAX, 0, 0, 0), [])]
        return [op for op, _ in ops], [a for _, a in ops]


def shifted(x, gen):
    """Each image moved by -1, 0 or 1 pixel in each direction, zeros shifted in."""
    b = x.shape[0]
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (b,), generator=gen)
    dx = torch.randint(0, 3, (b,), generator=gen)
    rows = (dy[:, None] + torch.arange(SIDE)[None, :])[:, :, None].expand(b, SIDE, SIDE)
    cols = (dx[:, None] + torch.arange(SIDE)[None, :])[:, None, :].expand(b, SIDE, SIDE)
    return padded[torch.arange(b)[:, None, None], rows, cols]


def train(model, x, y, gen):
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith("pos")]
    rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and not n.startswith("pos"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": rest, "weight_decay": 0.0}],
                            lr=LR)
    steps_per_epoch = math.ceil(len(x) / BATCH)
    total = EPOCHS * steps_per_epoch

    def lr_at(step):
        if step < WARMUP * steps_per_epoch:
            return LR * (step + 1) / (WARMUP * steps_per_epoch)
        t = (step - WARMUP * steps_per_epoch) / (total - WARMUP * steps_per_epoch)
        return LR * 0.5 * (1 + math.cos(math.pi * t))

    step = 0
    for epoch in range(EPOCHS):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            loss = torch.nn.functional.cross_entropy(model(shifted(x[idx], gen)), y[idx], label_smoothing=SMOOTHING)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        if (epoch + 1) % 25 == 0:
            print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}", flush=True)


def check_twins(path, torch_logits, tol):
    """The file read back by the loader's twin; its pure-Python and NumPy passes against torch's."""
    model_py = fmt.pyscripts_module("model")
    numpy_model = fmt.pyscripts_module("numpy_model")
    m = model_py.load(path)
    n = len(m.labels)
    want = torch_logits.argmax(1)
    for name, steps in (("Python", model_py), ("NumPy", numpy_model)):
        t0 = time.perf_counter()
        probs, logits = model_py.forward(m, m.x, n, steps)
        seconds = time.perf_counter() - t0
        logits = np.array(logits, dtype=np.float64).reshape(n, m.classes)
        classes = np.array(model_py.classes_of(probs, n, m.classes))
        diff = float(np.abs(logits - torch_logits).max())
        changed = int(np.sum(classes != want))
        print(f"{name} pass ({seconds:.2f} s): {changed} classes differ from torch's, "
              f"max |logit - torch's| {diff:.3g} (tolerance {tol:.3g})")
        if changed or not diff <= tol:
            sys.exit(f"{name}'s pass does not match torch's within the tolerance")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "models/vit.bmml"
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    x_train, y_train, x_test, y_test, _ = fmt.digits_split()
    xt = torch.tensor(x_train, dtype=torch.float32).reshape(-1, SIDE, SIDE)
    yt = torch.tensor(y_train)
    model = ViT()
    t0 = time.perf_counter()
    train(model, xt, yt, gen)
    print(f"trained in {time.perf_counter() - t0:.0f} s, {sum(p.numel() for p in model.parameters())} parameters")
    with torch.no_grad():
        train_acc = float((model(xt).argmax(1) == yt).float().mean())
        test_logits = model(torch.tensor(x_test, dtype=torch.float32).reshape(-1, SIDE, SIDE)).numpy()
    acc = float(np.mean(test_logits.argmax(1) == y_test))
    print(f"fp32 (torch): train accuracy {train_acc:.4f} ({len(y_train)} images), "
          f"test accuracy {acc:.4f} ({len(y_test)} images)")
    ops, arrays = model.ops()
    tol = fmt.derive_tol(ops, arrays, x_test, y_test, (SIDE, SIDE))
    fmt.write(out, ops, arrays, x_test, y_test, (SIDE, SIDE), CLASSES, tol)
    print(f"wrote {out}")
    check_twins(out, test_logits.astype(np.float64), tol)


if __name__ == "__main__":
    main()
