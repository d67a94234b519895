#!/usr/bin/env python3
"""`backprop explain` against numbers computed here, never by explain itself.

- softmax and log-sum-exp of the note's examples (eq. 59, 70, 71), typed in
  by hand from the note and from an independent calculation;
- the classic 2-2-2 example's published figures (loss 0.298371109,
  dL/dw = 0.082167041 for the hidden-to-output weight w_11^(1));
- for models made by `backprop init` (weights read from the file here):
  the forward pass in Python double, the gradient by central differences of
  that forward pass (no derivative code here), PyTorch float64 autograd when
  torch imports, the batch mean with its 1/M summed here, the update and
  the repeated descent steps replayed here;
- the text: each cited equation beside the formula it holds, the numbers of
  eq. 26 recomputed from the printed terms, at most 100 columns, no "-0",
  Russian and English covering the same lines.

usage: explain_check.py BACKPROP TMPDIR
"""
import json
import math
import re
import struct
import subprocess
import sys

bp, tmp = sys.argv[1], sys.argv[2]
failures = 0


def bad(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def close(a, b, rel, what):
    if not (abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)):
        bad(f"{what}: {a!r} vs {b!r} (rel. tolerance {rel})")


def run(*args):
    r = subprocess.run([bp, "explain", *args], capture_output=True, text=True)
    if r.returncode != 0:
        bad(f"explain {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def js(*args):
    out = run(*args, "--json")
    try:
        return json.loads(out)
    except ValueError:
        bad(f"explain {' '.join(args)} --json is not JSON: {out[:200]}")
        return None


# ---- softmax: the note's own numbers ----------------------------------------
s = js("softmax", "--z", "1,2,3")
for a, b in zip(s["y"], [0.0900306, 0.244728, 0.665241]):
    close(a, b, 5e-6, "softmax([1,2,3])")
close(s["logsumexp"], 3.40761, 2e-6, "log-sum-exp of [1,2,3]")
close(s["logsumexp"], math.log(math.exp(1) + math.exp(2) + math.exp(3)), 1e-14, "log-sum-exp")
s = js("softmax", "--z", "1,2,3", "--temperature", "100")
for a, b in zip(s["y"], [0.33, 0.33, 0.34]):  # eq. 70, two decimals
    close(round(a, 2), b, 1e-12, "softmax_T=100")
s = js("softmax", "--z", "1,2,3", "--temperature", "0.1")
close(s["y"][0], 2.06106e-9, 1e-5, "softmax_T=0.1 [0]")  # e^-20 / (1 + e^-10 + e^-20)
close(s["y"][1], 4.53979e-5, 1e-5, "softmax_T=0.1 [1]")  # e^-10 / (1 + e^-10 + e^-20)
close(s["y"][2], 0.9999546, 1e-7, "softmax_T=0.1 [2]")   # note: 0.99995
s = js("softmax", "--z", "1000,1001,1002")  # eq. 61's shift keeps it finite
for a, b in zip(s["y"], [0.0900306, 0.244728, 0.665241]):
    close(a, b, 5e-6, "softmax([1000,1001,1002])")

# ---- the classic worked example --------------------------------------------
w = js()
close(w["loss"], 0.298371109, 1e-8, "worked example loss")
close(w["layers"][1]["grad_W"][0][0], 0.082167041, 1e-7, "worked example dL/dw_11^(1)")
close(w["layers"][0]["grad_W"][0][0], 0.000438568, 1e-5, "worked example dL/dw_11^(0)")


# ---- models made by init, checked by an independent forward pass -----------
def f32_decimal(v):
    """The shortest decimal that reads back as the same float32, as explain reads it."""
    for p in range(1, 10):
        s = "%.*g" % (p, v)
        if struct.unpack("<f", struct.pack("<f", float(s)))[0] == v:
            return float(s)
    return v


def read_model(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    meta = h.pop("__metadata__")
    sizes = [int(x) for x in meta["sizes"].split(",")]
    params = []
    for l in range(len(sizes) - 1):
        t = []
        for name in (f"layers.{l}.weight", f"layers.{l}.bias"):
            a, b = h[name]["data_offsets"]
            t.append([f32_decimal(v) for v in struct.unpack(f"<{(b - a) // 4}f", raw[8 + n + a:8 + n + b])])
        params.append(t)
    return sizes, meta["activations"].split(","), meta["loss"], float(meta.get("temperature", 1)), params


def f(name, z):
    return {"identity": z, "sigmoid": 1 / (1 + math.exp(-z)), "relu": max(0.0, z),
            "leaky_relu": z if z > 0 else 0.01 * z, "tanh": math.tanh(z)}[name]


def forward(sizes, acts, loss, T, params, x, t):
    """The loss of one example, and z, y per layer: eq. 1, 2, 6/62/BCE."""
    y, zs, ys = list(x), [], [list(x)]
    for l, (W, b) in enumerate(params):
        n_in, n_out = sizes[l], sizes[l + 1]
        z = [sum(y[i] * W[j * n_in + i] for i in range(n_in)) + b[j] for j in range(n_out)]
        if acts[l] == "softmax":
            m = max(z)
            e = [math.exp((v - m) / T) for v in z]
            y = [v / sum(e) for v in e]
        else:
            y = [f(acts[l], v) for v in z]
        zs.append(z)
        ys.append(y)
    if loss == "mse":
        L = 0.5 * sum((tj - yj) ** 2 for tj, yj in zip(t, y))
    elif loss == "softmax_ce":
        L = -sum(tj * math.log(yj) for tj, yj in zip(t, y) if tj)
    else:
        L = -sum(tj * math.log(yj) + (1 - tj) * math.log(1 - yj) for tj, yj in zip(t, y))
    return L, zs, ys


def batch_loss(model, xs, ts):
    return sum(forward(*model, x, t)[0] for x, t in zip(xs, ts)) / len(xs)


def fd_grads(model, xs, ts):
    """Central differences of the batch loss, in the layout of grad_W/grad_b."""
    sizes, acts, loss, T, params = model
    out = []
    for l, (W, b) in enumerate(params):
        g = []
        for vec in (W, b):
            gv = []
            for k in range(len(vec)):
                keep = vec[k]
                h = 1e-6 * max(1.0, abs(keep))
                vec[k] = keep + h
                up = batch_loss(model, xs, ts)
                vec[k] = keep - h
                down = batch_loss(model, xs, ts)
                vec[k] = keep
                gv.append((up - down) / (2 * h))
            g.append(gv)
        out.append(g)
    return out


try:
    import torch
except ImportError:
    torch = None


def torch_grads(model, xs, ts):
    sizes, acts, loss, T, params = model
    P = [(torch.tensor(W, dtype=torch.float64).reshape(sizes[l + 1], sizes[l]).requires_grad_(),
          torch.tensor(b, dtype=torch.float64).requires_grad_()) for l, (W, b) in enumerate(params)]
    y = torch.tensor(xs, dtype=torch.float64)
    t = torch.tensor(ts, dtype=torch.float64)
    for l, (W, b) in enumerate(P):
        z = y @ W.T + b
        a = acts[l]
        y = {"identity": lambda v: v, "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
             "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.01),
             "softmax": lambda v: torch.softmax(v / T, dim=1)}[a](z)
    if loss == "mse":
        L = 0.5 * ((t - y) ** 2).sum(dim=1).mean()
    elif loss == "softmax_ce":
        L = -(t * torch.log(y)).sum(dim=1).mean()
    else:
        L = -(t * torch.log(y) + (1 - t) * torch.log(1 - y)).sum(dim=1).mean()
    L.backward()
    return L.item(), [(W.grad.tolist(), b.grad.tolist()) for W, b in P]


cases = [
    ("2,3,2", "sigmoid", "mse", None, "0.3,-0.7", "0.2,0.9"),
    ("3,4,3", "relu", "softmax_ce", "2", "0.5,-1,2", "2"),
    ("3,4,4,3", "tanh", "softmax_ce", None, "1,0.25,-0.5", "0.2,0.3,0.5"),
    ("2,3,2", "leaky_relu", "sigmoid_bce", None, "-0.4,0.8", "1,0"),
    ("2,2,1", "tanh", "mse", None, "0.1,0.2", "0.3"),
]
for k, (layers, act, loss, T, x, t) in enumerate(cases):
    m = f"{tmp}/m{k}.safetensors"
    init = [bp, "init", "--layers", layers, "--act", act, "--loss", loss, "--seed", str(k + 1), "--out", m]
    if T:
        init += ["--temperature", T]
    subprocess.run(init, check=True, capture_output=True)
    model = read_model(m)
    sizes = model[0]
    xv = [float(v) for v in x.split(",")]
    tv = [float(v) for v in t.split(",")]
    if len(tv) == 1 and sizes[-1] > 1:
        tv = [1.0 if j == int(tv[0]) else 0.0 for j in range(sizes[-1])]
    J = js("--model", m, "--input", x, "--target", t, "--check", "--steps", "3", "--lr", "0.1")
    if not J:
        continue
    L, zs, ys = forward(*model, xv, tv)
    close(J["loss"], L, 1e-12, f"case {k}: loss")
    for l, layer in enumerate(J["layers"]):
        for a, b in zip(layer["z"], zs[l]):
            close(a, b, 1e-12, f"case {k}: z of layer {l + 1}")
        for a, b in zip(layer["y"], ys[l + 1]):
            close(a, b, 1e-12, f"case {k}: y of layer {l + 1}")
    fd = fd_grads(model, [xv], [tv])
    for l, layer in enumerate(J["layers"]):
        n_in = sizes[l]
        flatW = [v for row in layer["grad_W"] for v in row]
        if len(layer["grad_W"]) != sizes[l + 1] or any(len(r) != n_in for r in layer["grad_W"]):
            bad(f"case {k}: grad_W of layer {l} is not {sizes[l + 1]}x{n_in}")
        for a, b in zip(flatW + layer["grad_b"], fd[l][0] + fd[l][1]):
            close(a, b, 1e-6, f"case {k}: gradient of layer {l} vs Python central differences")
        flatF = [v for row in layer["fd_W"] for v in row]
        for a, b in zip(flatF + layer["fd_b"], fd[l][0] + fd[l][1]):
            close(a, b, 1e-6, f"case {k}: fd of layer {l} vs Python central differences")
    if torch:
        TL, TG = torch_grads(model, [xv], [tv])
        close(J["loss"], TL, 1e-12, f"case {k}: loss vs PyTorch float64")
        for l, layer in enumerate(J["layers"]):
            for r, tr in zip(layer["grad_W"], TG[l][0]):
                for a, b in zip(r, tr):
                    close(a, b, 1e-10, f"case {k}: grad_W of layer {l} vs PyTorch float64")
            for a, b in zip(layer["grad_b"], TG[l][1]):
                close(a, b, 1e-10, f"case {k}: grad_b of layer {l} vs PyTorch float64")
    # descent replayed here: p <- p - 0.1 * (FD gradient)
    losses = [batch_loss(model, [xv], [tv])]
    for step in range(3):
        g = fd_grads(model, [xv], [tv])
        for l, (W, b) in enumerate(model[4]):
            for vec, gv in zip((W, b), g[l]):
                for i in range(len(vec)):
                    vec[i] -= 0.1 * gv[i]
        losses.append(batch_loss(model, [xv], [tv]))
    for a, b in zip(J["step_loss"], losses):
        close(a, b, 1e-7, f"case {k}: loss after descent steps")
    if not J["step_loss"][-1] < J["step_loss"][0]:
        bad(f"case {k}: the loss did not fall over 3 steps: {J['step_loss']}")

# ---- a trained model that standardises its inputs: y(0) = (x - mu)/sigma -------
with open(f"{tmp}/train.csv", "w") as fh:
    fh.write("a,b,c,label\n")
    for i in range(30):
        fh.write(f"{i % 3 + 0.1 * i},{(i * 7) % 5 - 2},{0.5 * (i % 4)},{i % 3}\n")
subprocess.run([bp, "train", "--data", f"{tmp}/train.csv", "--layers", "3,4,3", "--act", "relu",
                "--loss", "softmax_ce", "--epochs", "2", "--standardize", "--seed", "3",
                "--out", f"{tmp}/st.safetensors"], check=True, capture_output=True)
raw = open(f"{tmp}/st.safetensors", "rb").read()
meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
mu = [f32_decimal(struct.unpack("<f", struct.pack("<f", float(v)))[0]) for v in meta["standardize_mean"].split(",")]
sd = [f32_decimal(struct.unpack("<f", struct.pack("<f", float(v)))[0]) for v in meta["standardize_std"].split(",")]
model = read_model(f"{tmp}/st.safetensors")
x = [1.0, 0.5, 0.2]
J = js("--model", f"{tmp}/st.safetensors", "--input", "1,0.5,0.2", "--target", "1")
if J:
    y0 = [(a - m) / s for a, m, s in zip(x, mu, sd)]
    for a, b in zip(J["y0"], y0):
        close(a, b, 1e-12, "standardised y0 = (x - mu)/sigma")
    close(J["loss"], forward(*model, y0, [0, 1, 0])[0], 1e-12, "standardised model: loss")

# ---- a batch from CSV: the mean with 1/M -------------------------------------
xs = [[0.05, 0.1], [0.5, -0.3], [1, 2], [-0.25, 0.125]]
ts = [[0.01, 0.99], [1, 0], [0.5, 0.5], [0, 1]]
open(f"{tmp}/bx.csv", "w").write("".join(",".join(map(str, r)) + "\n" for r in xs))
open(f"{tmp}/bt.csv", "w").write("".join(",".join(map(str, r)) + "\n" for r in ts))
subprocess.run([bp, "init", "--layers", "2,3,2", "--act", "sigmoid", "--loss", "mse", "--seed", "9",
                "--out", f"{tmp}/bm.safetensors"], check=True, capture_output=True)
model = read_model(f"{tmp}/bm.safetensors")
J = js("--model", f"{tmp}/bm.safetensors", "--input", f"{tmp}/bx.csv", "--target", f"{tmp}/bt.csv")
if J:
    M = len(xs)
    if len(J.get("per_example", [])) != M:
        bad(f"batch: per_example has {len(J.get('per_example', []))} entries, not {M}")
    close(J["loss"], batch_loss(model, xs, ts), 1e-12, "batch: mean loss")
    fd = fd_grads(model, xs, ts)
    for l, layer in enumerate(J["layers"]):
        # the mean recomputed here from the per-example gradients, with 1/M
        for j, row in enumerate(layer["grad_W"]):
            for i, v in enumerate(row):
                mean = sum(P["layers"][l]["grad_W"][j][i] for P in J["per_example"]) / M
                close(v, mean, 1e-14, f"batch: grad_W[{l}][{j}][{i}] vs (1/M) sum of per_example")
        flat = [v for row in layer["grad_W"] for v in row] + layer["grad_b"]
        for a, b in zip(flat, fd[l][0] + fd[l][1]):
            close(a, b, 1e-6, f"batch: mean gradient of layer {l} vs central differences")
        for m, P in enumerate(J["per_example"]):
            fdm = fd_grads(model, [xs[m]], [ts[m]])
            for a, b in zip([v for r in P["layers"][l]["grad_W"] for v in r], fdm[l][0]):
                close(a, b, 1e-6, f"batch: example {m} gradient vs central differences")
    if torch:
        TL, TG = torch_grads(model, xs, ts)
        close(J["loss"], TL, 1e-12, "batch: loss vs PyTorch float64")
        for l, layer in enumerate(J["layers"]):
            for r, tr in zip(layer["grad_W"], TG[l][0]):
                for a, b in zip(r, tr):
                    close(a, b, 1e-10, f"batch: grad_W of layer {l} vs PyTorch float64")

# ---- the text ---------------------------------------------------------------
SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
for lang in ("en", "ru"):
    eq = "eq." if lang == "en" else "ф."
    texts = {
        "worked": run("--lang", lang, "--check", "--steps", "2"),
        "softmax": run("--model", f"{tmp}/m1.safetensors", "--input", "0.5,-1,2", "--target", "2",
                       "--lang", lang, "--check", "--focus", "w_12^(0)"),
        "bce": run("--model", f"{tmp}/m3.safetensors", "--input", "-0.4,0.8", "--target", "1,0",
                   "--lang", lang),
        "batch": run("--model", f"{tmp}/bm.safetensors", "--input", f"{tmp}/bx.csv", "--target",
                     f"{tmp}/bt.csv", "--lang", lang),
        "sm": run("softmax", "--z", "1,2,3", "--lang", lang),
    }
    for name, text in texts.items():
        for line in text.splitlines():
            if len(line) > 100:
                bad(f"{lang} {name}: a line of {len(line)} columns: {line}")
            if re.search(r"(^|[^\w.])-0(?![.\d])", line):
                bad(f"{lang} {name}: '-0' printed: {line}")
    joined = " ".join(l.strip() for l in texts["worked"].splitlines())
    # the sigmoid output under MSE: f' by eq. 9 with eq. 27, eq. 13 for dL/dy alone
    if not re.search(r"δ₁⁽²⁾ = ∂𝓛/∂y₁⁽²⁾·∂y₁⁽²⁾/∂z₁⁽²⁾ = [^(]*\(" + eq + r" 9, 14\)", joined):
        bad(f"{lang}: the output delta of a sigmoid under MSE does not cite eq. 9, 14")
    if not re.search(r"∂𝓛/∂y₁⁽²⁾ = −\(t₁ − y₁⁽²⁾\) = [^(]*\(0\.01[^)]*\) = [\d.]+ +\(" + eq + r" 13\)", joined):
        bad(f"{lang}: dL/dy of MSE does not cite eq. 13")
    if not re.search(r"y₁⁽²⁾·\(1 − y₁⁽²⁾\)[^(]*\([^)]*\) = [\d.]+ +\(" + eq + r" 27\)", joined):
        bad(f"{lang}: f' of the sigmoid does not cite eq. 27")
    # eq. 26 with its numbers: recompute (sum of d_k*w)*f' from the printed terms
    found = 0
    for m in re.finditer(r"δ(.)⁽¹⁾ = Σₖ[^=]*= \(([^)]*(?:\([^)]*\)[^)]*)*)\)·([\d.e-]+) = ([-\d.e]+)·([-\d.e]+) = "
                         r"([-\d.e]+) +\(" + eq + r" 26\)", joined):
        terms = re.findall(r"\(?(-?[\d.e-]+)\)?·\(?(-?[\d.e-]+)\)?", m.group(2))
        s = sum(float(a) * float(b) for a, b in terms)
        close(s * float(m.group(3)), float(m.group(6)), 1e-7, f"{lang}: eq. 26 from its printed terms")
        found += 1
    if found != 2:
        bad(f"{lang}: {found} lines of eq. 26 with numbers, expected 2")
    # the vector form's δ(1) and ∇W(0) against central differences of the
    # classic example (∂𝓛/∂b_j(0) = δ_j(1), eq. 37)
    worked = ([2, 2, 2], ["sigmoid", "sigmoid"], "mse", 1.0,
              [[[0.15, 0.20, 0.25, 0.30], [0.35, 0.35]], [[0.40, 0.45, 0.50, 0.55], [0.60, 0.60]]])
    fdw = fd_grads(worked, [[0.05, 0.1]], [[0.01, 0.99]])
    m = re.search(r"δ⁽¹⁾ = W⁽¹⁾ᵀδ⁽²⁾ ⊙ ∂y⁽¹⁾/∂z⁽¹⁾ = \[([^\]]*)\]ᵀ +\(" + eq + r" 45\)", joined)
    if not m:
        bad(f"{lang}: no vector δ(1) of eq. 45")
    else:
        for a, b in zip(map(float, m.group(1).split(",")), fdw[0][1]):
            close(a, b, 1e-6, f"{lang}: vector-form δ(1) vs central differences")
    m = re.search(r"∇W⁽⁰⁾ = δ⁽¹⁾y⁽⁰⁾ᵀ \[2×1 · 1×2\] = \[([^\]]*)\] \[([^\]]*)\] \(", joined)
    if not m:
        bad(f"{lang}: no outer product of eq. 43")
    else:
        vals = [float(v) for v in (m.group(1) + " " + m.group(2)).split()]
        for a, b in zip(vals, fdw[0][0]):
            close(a, b, 1e-6, f"{lang}: vector-form ∇W(0) vs central differences")
    sm = " ".join(l.strip() for l in texts["softmax"].splitlines())
    if not re.search(r"δ₃⁽²⁾ = \(y₃⁽²⁾ − t₃\) / T = [^(]*\([^)]*\) / 2 = [-\d.]+ +\(", sm):
        bad(f"{lang}: softmax with T = 2 shows no (y - t)/T")
    beyond = "beyond the note" if lang == "en" else "вне конспекта"
    if not re.search(r"/ T = [^(]*\([^)]*\) / 2 = [-\d.]+ +\(" + beyond, sm):
        bad(f"{lang}: (y - t)/T is not marked as beyond the note")
    if not re.search(r"\(" + eq + r" 61\)", sm) or not re.search(r"\(" + eq + r" 58, 69\)", sm):
        bad(f"{lang}: the softmax block cites no eq. 61 / 58")
    if not re.search(r"∂𝓛/∂w₁₂⁽⁰⁾ = δ₂⁽¹⁾·y₁⁽⁰⁾ = .*\(" + eq + r" 16, 17\)", sm):
        bad(f"{lang}: --focus w_12^(0) does not end in eq. 16, 17")
    if not re.search(r"δ₂⁽²⁾·w₂₂⁽¹⁾ = [^(]*\(" + eq + r" 20, 21, 24\)", sm):
        bad(f"{lang}: --focus shows no path term of eq. 20-21")
    bce = " ".join(l.strip() for l in texts["bce"].splitlines())
    if not re.search(r"𝓛 = −Σⱼ \[tⱼ log yⱼ⁽²⁾ \+ \(1 − tⱼ\) log\(1 − yⱼ⁽²⁾\)\] = [\d.]+ +\(" + beyond, bce):
        bad(f"{lang}: BCE is not printed with its brackets, marked beyond the note")
    batch = " ".join(l.strip() for l in texts["batch"].splitlines())
    if not re.search(r"= \(1/4\)\((?:[^()]|\([^()]*\))*\) = [-\d.e]+ +\(" + eq + r" 54\)", batch):
        bad(f"{lang}: the batch form shows no (1/M)(...) of eq. 54")
    sm = texts["sm"]
    if "0.0900305732" not in sm or "3.40760596" not in sm or "(" + eq + " 57, 59)" not in sm:
        bad(f"{lang}: explain softmax does not show eq. 59's numbers and 3.408")
    if lang == "ru":
        for word in ("Прямой проход", "Обратный проход", "ошибки δ", "Функция потерь",
                     "Шаг градиентного спуска", "конечные разности"):
            if word not in joined:
                bad(f"ru: '{word}' missing")
    # both languages cover the same lines: the same formulas with the same citations
    if lang == "ru":
        for name in texts:
            one = lambda t: " ".join(l.strip() for l in t.splitlines())
            ru = re.findall(r"\((?:ф\.|вне конспекта)([^)]*)\)", one(texts[name]))
            en = re.findall(r"\((?:eq\.|beyond the note)([^)]*)\)", one(texts_en[name]))
            ru = [c.replace("из ф.", "from eq.") for c in ru]
            if ru != en:
                bad(f"{name}: {len(ru)} Russian citations against {len(en)} English, or others")
    texts_en = texts

print(f"{failures} failures")
sys.exit(1 if failures else 0)
