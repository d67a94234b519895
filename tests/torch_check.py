#!/usr/bin/env python3
"""The outside oracle: `backprop grad` against PyTorch float64 autograd.

Random networks (depth 1-4, widths 1-40, every activation, all three losses,
temperatures other than 1, batches of 1 to 64, hard and soft targets) are
written as model files (docs/formats.md) by this script's own writer; the
gradients that `backprop grad` writes are read by this script's own parser
and compared tensor by tensor with autograd in float64. Exit 1 on any
relative error above 1e-4.

usage: torch_check.py BACKPROP [CASES] [SEED]
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import torch

ACTS = ["identity", "sigmoid", "relu", "leaky_relu", "tanh"]


def write_model(path, sizes, acts, loss, T, params):
    meta = {"format": "backprop", "sizes": ",".join(map(str, sizes)),
            "activations": ",".join(acts), "loss": loss}
    if T != 1.0:
        meta["temperature"] = repr(T)
    header, blobs, off = {"__metadata__": meta}, [], 0
    for l, (W, b) in enumerate(params):
        for name, t in ((f"layers.{l}.weight", W), (f"layers.{l}.bias", b)):
            data = t.to(torch.float32).contiguous().numpy().tobytes()
            header[name] = {"dtype": "F32", "shape": list(t.shape),
                            "data_offsets": [off, off + len(data)]}
            blobs.append(data)
            off += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", e
        a, b = e["data_offsets"]
        buf = raw[8 + n + a:8 + n + b]
        vals = struct.unpack(f"<{len(buf) // 4}f", buf)
        out[name] = torch.tensor(vals, dtype=torch.float64).reshape(e["shape"])
    return out, meta


def act(name, z):
    return {"identity": lambda v: v, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.01),
            "tanh": torch.tanh}[name](z)


def reference(params, acts, loss, T, x, t):
    ps = [(W.clone().requires_grad_(True), b.clone().requires_grad_(True)) for W, b in params]
    y = x
    for l, (W, b) in enumerate(ps):
        z = y @ W.T + b
        y = act(acts[l], z) if l < len(ps) - 1 or loss == "mse" else z
    if loss == "mse":
        L = 0.5 * ((t - y) ** 2).sum(1).mean()
    elif loss == "softmax_ce":
        L = -(t * torch.log_softmax(y / T, dim=1)).sum(1).mean()
    else:
        L = torch.nn.functional.binary_cross_entropy_with_logits(y, t, reduction="none").sum(1).mean()
    L.backward()
    return L.item(), [(W.grad, b.grad) for W, b in ps]


def csv(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(",".join(repr(float(v)) if not isinstance(v, int) else str(v) for v in r) + "\n")


def rel(got, want):
    d = (got - want).abs().max().item()
    s = want.abs().max().item()
    return d / s if s > 0 else d


def main():
    exe = sys.argv[1]
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    torch.manual_seed(rng.randrange(1 << 30))
    worst, failures = 0.0, 0
    with tempfile.TemporaryDirectory() as d:
        for c in range(cases):
            L = rng.randint(1, 4)
            sizes = [rng.randint(1, 40) for _ in range(L + 1)]
            loss = ["mse", "softmax_ce", "sigmoid_bce"][c % 3]
            if loss == "softmax_ce":
                sizes[-1] = max(sizes[-1], 2)
            hidden = [rng.choice(ACTS) for _ in range(L - 1)]
            out = {"mse": rng.choice(ACTS), "softmax_ce": "softmax", "sigmoid_bce": "sigmoid"}[loss]
            acts = hidden + [out]
            T = rng.choice([0.5, 2.0, 3.7, 1.0]) if loss == "softmax_ce" else 1.0
            M = rng.choice([1, 2, 5, 17, 64])
            params = []
            for l in range(L):
                s = (2.0 / sizes[l]) ** 0.5
                params.append(((torch.randn(sizes[l + 1], sizes[l]) * s).float().double(),
                               (torch.randn(sizes[l + 1]) * 0.1).float().double()))
            x = (torch.rand(M, sizes[0]) * 4 - 2).float().double()
            labels = loss == "softmax_ce" and rng.random() < 0.5
            if loss == "mse":
                t = (torch.rand(M, sizes[-1]) * 2 - 1).float().double()
            elif labels:
                lab = torch.randint(0, sizes[-1], (M,))
                t = torch.nn.functional.one_hot(lab, sizes[-1]).double()
            else:
                t = torch.rand(M, sizes[-1]).float().double()
                if loss == "softmax_ce" and rng.random() < 0.5:
                    t = (t / t.sum(1, keepdim=True)).float().double()
            mp, xp, tp, gp = (os.path.join(d, n) for n in ("m.safetensors", "x.csv", "t.csv", "g.safetensors"))
            write_model(mp, sizes, acts, loss, T, params)
            csv(xp, x.tolist())
            csv(tp, [[int(v)] for v in lab.tolist()] if labels else t.tolist())
            r = subprocess.run([exe, "grad", "--model", mp, "--input", xp, "--target", tp,
                                "--out", gp], capture_output=True, text=True)
            what = f"case {c}: sizes {sizes} acts {acts} loss {loss} T {T} M {M} labels {labels}"
            if r.returncode != 0:
                print(f"FAIL {what}: exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            want_loss, want = reference(params, acts, loss, T, x, t)
            got, meta = read_safetensors(gp)
            errs = [abs(float(meta["loss_value"]) - want_loss) / max(abs(want_loss), 1e-30)]
            for l, (gW, gb) in enumerate(want):
                errs.append(rel(got[f"layers.{l}.weight"], gW))
                errs.append(rel(got[f"layers.{l}.bias"], gb))
            e = max(errs)
            worst = max(worst, e)
            if e > 1e-4:
                print(f"FAIL {what}: relative error {e:.3g}")
                failures += 1
    print(f"{cases} random networks against PyTorch float64 autograd: "
          f"largest relative error {worst:.3g}")
    print(f"{cases - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
