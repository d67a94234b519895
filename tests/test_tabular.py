#!/usr/bin/env python3
"""Tabular data end to end: `train --test`, classes from one-hot targets and
FANN's figures (MSE without the 1/2, bit fail), checked against values this
script computes on its own: from hand-set weights, or from a model file it
parses itself and a forward pass in plain Python double. Also the refusals:
a test file of other widths, a FANN header that disagrees with its rows.

usage: test_tabular.py BACKPROP
"""
import model_file  # tests/model_file.py, beside this script
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

BP = sys.argv[1]
D = tempfile.mkdtemp(prefix="test_tabular.")
fails = 0
passes = 0


def check(cond, what):
    global fails, passes
    if cond:
        passes += 1
    else:
        fails += 1
        print("FAIL:", what)


def close(a, b, tol=1e-5):
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


def path(name):
    return os.path.join(D, name)


def run(*args):
    return subprocess.run([BP] + list(args), capture_output=True, text=True)


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def write_fann(name, rows):
    """rows: [(inputs, outputs)] as FANN's writer lays them out."""
    with open(path(name), "w") as f:
        f.write(f"{len(rows)} {len(rows[0][0])} {len(rows[0][1])}\n")
        for x, t in rows:
            f.write(" ".join(repr(v) for v in x) + "\n" + " ".join(repr(v) for v in t) + "\n")
    return path(name)


def write_model(name, sizes, acts, loss, params):
    return model_file.write_model(path(name), sizes, acts, loss, params)


def read_model(p):
    """(sizes, acts, [(W, b)], mean, std) of a model file, by this script's own parser."""
    raw = open(p, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = h["__metadata__"]
    sizes = [int(s) for s in meta["sizes"].split(",")]

    def tensor(key):
        a, b = h[key]["data_offsets"]
        return list(struct.unpack(f"<{(b - a) // 4}f", data[a:b]))

    params = []
    for l in range(len(sizes) - 1):
        w = tensor(f"layers.{l}.weight")
        params.append(([w[j * sizes[l]:(j + 1) * sizes[l]] for j in range(sizes[l + 1])],
                       tensor(f"layers.{l}.bias")))
    return sizes, meta["activations"].split(","), params


def forward(acts, params, x):
    y = x
    for (W, b), a in zip(params, acts):
        z = [sum(w * v for w, v in zip(row, y)) + bj for row, bj in zip(W, b)]
        if a == "sigmoid":
            y = [1 / (1 + math.exp(-v)) for v in z]
        elif a == "tanh":
            y = [math.tanh(v) for v in z]
        elif a == "identity":
            y = z
        elif a == "softmax":
            m = max(z)
            e = [math.exp(v - m) for v in z]
            y = [v / sum(e) for v in e]
        else:
            raise ValueError(a)
    return y


def figures(ys, ts):
    """MSE loss (1/2 sum per example, mean), FANN's MSE, bit fail, accuracy, confusion."""
    k, n = len(ts[0]), len(ts)
    sq = sum((t - y) ** 2 for yr, tr in zip(ys, ts) for y, t in zip(yr, tr))
    bits = sum(abs(t - y) > 0.35 for yr, tr in zip(ys, ts) for y, t in zip(yr, tr))
    conf = [[0] * k for _ in range(k)]
    for yr, tr in zip(ys, ts):
        conf[tr.index(1.0)][max(range(k), key=lambda j: (yr[j], -j))] += 1
    acc = sum(conf[c][c] for c in range(k)) / n
    return {"loss": sq / 2 / n, "mse_fann": sq / (n * k), "bit_fail": bits, "accuracy": acc,
            "confusion": conf}


# --- eval on hand-set weights: y = W x + b, identity output, 3 classes -------
# W = I, b = (0, 0, 0.1): the outputs are the inputs, the last one + 0.1.
rows = [([0.9, 0.2, 0.0], [1.0, 0.0, 0.0]),   # y (.9 .2 .1): sq .01+.04+.01, no bit fails, class 0
        ([0.3, 0.6, 0.1], [1.0, 0.0, 0.0]),   # y (.3 .6 .2): sq .49+.36+.04, 2 fails, predicts 1
        ([0.1, 0.5, 0.0], [0.0, 1.0, 0.0]),   # y (.1 .5 .1): sq .01+.25+.01, 1 fail, class 1
        ([0.4, 0.0, 0.5], [0.0, 0.0, 1.0])]   # y (.4 0 .6): sq .16+0+.16, 2 fails (.4 > .35), predicts 2
hand = write_fann("hand.data", rows)
m = write_model("id.safetensors", [3, 3], ["identity"], "mse",
                [([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0.1])])
r = run("eval", "--model", m, "--data", hand, "--json")
check(r.returncode == 0, f"eval hand: {r.stderr}")
e = json.loads(r.stdout) if r.returncode == 0 else {}
# by hand: Σ sq = .06 + .89 + .27 + .32 = 1.54; FANN's MSE 1.54 / 12; loss 1.54 / 2 / 4
check(close(e.get("mse_fann"), 1.54 / 12), f"eval mse_fann {e.get('mse_fann')} != {1.54 / 12}")
check(close(e.get("loss"), 1.54 / 8), f"eval loss {e.get('loss')} != {1.54 / 8}")
check(e.get("bit_fail") == 5, f"eval bit_fail {e.get('bit_fail')} != 5")
check(close(e.get("accuracy"), 0.75), f"eval accuracy {e.get('accuracy')} != 0.75")
check(e.get("confusion") == [[1, 1, 0], [0, 1, 0], [0, 0, 1]], f"confusion {e.get('confusion')}")
# class 1: predicted twice, right once: precision .5, recall 1; class 0: 1 and .5
cls = e.get("per_class", [])
check(len(cls) == 3 and close(cls[1]["precision"], 0.5) and close(cls[1]["recall"], 1.0) and
      close(cls[0]["precision"], 1.0) and close(cls[0]["recall"], 0.5), f"per_class {cls}")
r = run("eval", "--model", m, "--data", hand, "--plot", path("conf.svg"))
check(r.returncode == 0 and "</svg>" in open(path("conf.svg")).read(), "eval --plot on one-hot")
check("bit fail 5" in r.stdout and "accuracy 0.7500" in r.stdout, f"eval text: {r.stdout}")

# the same figures computed here from the rows (float32 inputs), not by hand
ys = [[f32(x[0]), f32(x[1]), f32(x[2]) + f32(0.1)] for x, _ in rows]
want = figures(ys, [t for _, t in rows])
check(close(e.get("mse_fann"), want["mse_fann"]) and e.get("bit_fail") == want["bit_fail"],
      "eval figures against the script's own")

# partly one-hot: one row with two 1s makes the whole set regression
part = write_fann("part.data", rows[:3] + [([0.4, 0.0, 0.5], [0.0, 1.0, 1.0])])
r = run("eval", "--model", m, "--data", part, "--json")
e = json.loads(r.stdout) if r.returncode == 0 else {}
check(r.returncode == 0 and e.get("accuracy", 0) is None and e.get("confusion", 0) is None,
      f"partly one-hot is regression: {r.stdout} {r.stderr}")
# the last row's y (.4 0 .6) against t (0 1 1): all three off by more than .35
check(e.get("bit_fail") == 3 + 3, f"partly one-hot bit fail {e.get('bit_fail')}")
r = run("eval", "--model", m, "--data", part, "--plot", path("no.svg"))
check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and not os.path.exists(path("no.svg")),
      f"--plot on regression: {r.returncode} {r.stderr}")

# predict --classes: the argmax of each row
r = run("predict", "--model", m, "--data", hand, "--classes")
check(r.returncode == 0 and r.stdout.split() == ["0", "1", "1", "2"], f"predict --classes {r.stdout}")

# --- train --test on a one-hot FANN set: the figures against this script's
# own forward pass of the model written, on inputs standardised with the
# moments of the training rows (--val 0: all of them) -----------------------
def blob(i, c):
    """A deterministic example of class c: three features around a centre."""
    g = [((i * 37 + j * 11) % 17) / 17.0 - 0.5 for j in range(3)]
    return [4 * (c == 0) + 3 * g[0], 10 + 2 * (c == 1) + g[1], -3 + 5 * (c == 2) * g[2] + g[0]]


def onehot(c):
    return [1.0 if j == c else 0.0 for j in range(3)]


train_rows = [(blob(i, i % 3), onehot(i % 3)) for i in range(90)]
test_rows = [(blob(i + 500, (i * 2) % 3), onehot((i * 2) % 3)) for i in range(31)]
tr = write_fann("tr.data", train_rows)
te = write_fann("te.data", test_rows)
for loss, out_act in (("mse", "sigmoid"), ("sigmoid_bce", "sigmoid"), ("softmax_ce", "softmax")):
    model = path(f"{loss}.safetensors")
    r = run("train", "--data", tr, "--test", te, "--layers", "3,5,3", "--act", "tanh", "--loss", loss,
            "--out-act", "sigmoid", "--opt", "adam", "--lr", "0.02", "--batch", "8", "--epochs", "5",
            "--val", "0", "--standardize", "--seed", "2", "--json", "--out", model)
    check(r.returncode == 0, f"train --test {loss}: {r.stderr}")
    if r.returncode:
        continue
    j = json.loads(r.stdout)
    sizes, acts, params = read_model(model)
    xs = [[f32(v) for v in x] for x, _ in train_rows]
    mean = [sum(c) / len(c) for c in zip(*xs)]
    std = [math.sqrt(sum((v - mu) ** 2 for v in c) / len(c)) for c, mu in zip(zip(*xs), mean)]
    ys = [forward(acts, params, [(f32(v) - mu) / s for v, mu, s in zip(x, mean, std)])
          for x, _ in test_rows]
    want = figures(ys, [t for _, t in test_rows])
    check(close(j["test_mse_fann"], want["mse_fann"], 1e-4),
          f"{loss}: test_mse_fann {j['test_mse_fann']} != {want['mse_fann']}")
    check(j["test_bit_fail"] == want["bit_fail"],
          f"{loss}: test_bit_fail {j['test_bit_fail']} != {want['bit_fail']}")
    check(close(j["test_accuracy"], want["accuracy"]),
          f"{loss}: test_accuracy {j['test_accuracy']} != {want['accuracy']}")
    if loss == "mse":
        check(close(j["test_loss"], want["loss"], 1e-4), f"mse test_loss {j['test_loss']} != {want['loss']}")
    if loss == "softmax_ce":
        ce = -sum(math.log(y[t.index(1.0)]) for y, (_, t) in zip(ys, test_rows)) / len(ys)
        check(close(j["test_loss"], ce, 1e-4), f"softmax_ce test_loss {j['test_loss']} != {ce}")
    # eval of the saved model (its stored moments) gives the same figures
    r = run("eval", "--model", model, "--data", te, "--json")
    e = json.loads(r.stdout) if r.returncode == 0 else {}
    check(close(e.get("mse_fann"), j["test_mse_fann"]) and e.get("bit_fail") == j["test_bit_fail"]
          and close(e.get("accuracy"), j["test_accuracy"]), f"{loss}: eval differs from train --test")

# softmax_ce trains on the labels: the same model as from a CSV of class labels
with open(path("lab.csv"), "w") as f:
    for x, t in train_rows:
        f.write(",".join(repr(v) for v in x) + f",{t.index(1.0)}\n")
common = ["--layers", "3,5,3", "--act", "tanh", "--loss", "softmax_ce", "--opt", "sgd", "--lr", "0.1",
          "--batch", "8", "--epochs", "3", "--seed", "4", "--threads", "1"]
r1 = run("train", "--data", tr, *common, "--out", path("oh.safetensors"))
r2 = run("train", "--data", path("lab.csv"), *common, "--out", path("lab.safetensors"))
check(r1.returncode == 0 and r2.returncode == 0 and
      open(path("oh.safetensors"), "rb").read() == open(path("lab.safetensors"), "rb").read(),
      f"softmax_ce on one-hot targets differs from labels: {r1.stderr} {r2.stderr}")

# --- refusals: exit 1, one line, no model file -----------------------------
def refused(what, args, needles):
    out = path("refused.safetensors")
    r = run(*args, "--out", out)
    check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and not os.path.exists(out) and
          all(n in r.stderr for n in needles), f"{what}: exit {r.returncode}: {r.stderr!r}")


wide = write_fann("wide.data", [([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 0.0])])
refused("test of other widths", ["train", "--data", tr, "--test", wide, "--layers", "3,4,3",
                                 "--loss", "mse"], ["wide.data does not fit the network trained on", "4 features, the network 3 inputs"])
narrow = write_fann("narrow.data", [([1.0, 2.0, 3.0], [1.0, 0.0])])
refused("test of other outputs", ["train", "--data", tr, "--test", narrow, "--layers", "3,4,3",
                                  "--loss", "mse"], ["narrow.data does not fit", "2 targets, the network 3 outputs"])
with open(path("hdr.data"), "w") as f:   # header: 2 inputs, 1 output; rows: 3 and 1
    f.write("3 2 1\n1 2 3\n0\n4 5 6\n1\n7 8 9\n0\n")
refused("FANN header against rows", ["train", "--data", path("hdr.data"), "--layers", "2,4,1",
                                     "--loss", "mse"], ["disagree with the rows"])
with open(path("hdr2.data"), "w") as f:  # header: 2 and 2; rows: 3 and 1 (same count)
    f.write("2 2 2\n1 2 3\n0\n4 5 6\n1\n")
refused("FANN header split", ["train", "--data", path("hdr2.data"), "--layers", "2,4,2",
                              "--loss", "mse"], ["outputs do not start a line"])
refused("test file missing", ["train", "--data", tr, "--test", path("absent.data"), "--layers",
                              "3,4,3", "--loss", "mse"], ["absent.data"])

# --data mnist: no Debian package has it; the message says what works instead
if not os.path.exists("/usr/share/datasets/mnist"):
    r = run("train", "--data", "mnist", "--layers", "784,10", "--out", path("mnist.safetensors"))
    check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and
          "no Debian package" in r.stderr and "apt-get install dataset-mnist" not in r.stderr,
          f"--data mnist: {r.stderr!r}")

print(f"{passes} passed, {fails} failed")
subprocess.run(["rm", "-rf", D])
sys.exit(1 if fails else 0)
