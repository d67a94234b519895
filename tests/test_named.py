#!/usr/bin/env python3
"""Named classes end to end (issue 23): a CSV whose class column holds
words trains as classification with the words as class names in sorted
order, stored in the model ("classes"), shown by `predict --classes`,
`eval` (text, --json, the confusion SVG); the values checked here are
written out by hand or computed by this script from the model file it
parses itself. Also the refusals: an unknown class, names against a
numbered model, a bad "classes" array, --layers against the names.

usage: test_named.py BACKPROP IRIS_CSV
"""
import model_file  # tests/model_file.py, beside this script
import json
import os
import struct
import subprocess
import sys
import tempfile

BP, IRIS = sys.argv[1], sys.argv[2]
D = tempfile.mkdtemp(prefix="test_named.")
fails = passes = 0


def check(cond, what):
    global fails, passes
    if cond:
        passes += 1
    else:
        fails += 1
        print("FAIL:", what)


def path(name):
    return os.path.join(D, name)


def run(*args):
    return subprocess.run([BP] + list(args), capture_output=True, text=True)


def put(name, text):
    with open(path(name), "w", encoding="utf-8") as f:
        f.write(text)
    return path(name)


def one_line_error(r, needle, what):
    check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and needle in r.stderr,
          f"{what}: rc {r.returncode}, stderr {r.stderr!r}, wanted {needle!r}")


def read_header(p):
    raw = open(p, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_model(name, sizes, acts, loss, params, extra):
    return model_file.write_model(path(name), sizes, acts, loss, params, extra)


# --- a hand-set model with names: y = softmax(W x + b) ------------------------
# W = I (3x3), b = 0: the predicted class is the largest input.
names = ["<=50K", "a, b", "z\u00e9"]
m = write_model("hand.safetensors", [3, 3], ["softmax"], "softmax_ce",
                [([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])],
                {"classes": json.dumps(names)})
# semicolons, quotes, a header; rows: (x, true class) -> predicted by hand
data = put("hand.csv", 'f1;f2;f3;label\n'
           '0.9;0.1;0;"<=50K"\n'      # predicted 0, true 0
           '0.2;0.7;0.1;"a, b"\n'     # predicted 1, true 1
           '0.1;0.2;0.6;"a, b"\n'     # predicted 2, true 1
           '0.3;0.1;0.5;"z\u00e9"\n')   # predicted 2, true 2
r = run("eval", "--model", m, "--data", data, "--json")
check(r.returncode == 0, f"eval hand: {r.stderr}")
e = json.loads(r.stdout) if r.returncode == 0 else {}
check(e.get("classes") == names, f"eval --json classes {e.get('classes')}")
check(e.get("confusion") == [[1, 0, 0], [0, 1, 1], [0, 0, 1]], f"confusion {e.get('confusion')}")
check(abs(e.get("accuracy", 0) - 0.75) < 1e-12, f"accuracy {e.get('accuracy')}")
r = run("eval", "--model", m, "--data", data, "--plot", path("conf.svg"))
svg = open(path("conf.svg"), encoding="utf-8").read() if r.returncode == 0 else ""
check(r.returncode == 0 and "&lt;=50K" in svg and ">a, b<" in svg and "z\u00e9" in svg and
      "true a, b, predicted z\u00e9: 1" in svg, f"confusion SVG labels: {r.stderr}")
check("a, b → zé: 1" in r.stdout and "  <=50K" in r.stdout, f"eval text names: {r.stdout}")
# predict --classes: names, quoted as RFC 4180 where they hold a comma
r = run("predict", "--model", m, "--data", data, "--classes")
check(r.returncode == 0 and r.stdout == '<=50K\n"a, b"\nz\u00e9\nz\u00e9\n',
      f"predict --classes names: {r.stdout!r} {r.stderr}")
r = run("predict", "--model", m, "--data", data, "--classes", "--out", path("p.csv"))
check(r.returncode == 0 and open(path("p.csv"), encoding="utf-8").read().split("\n")[1] == '"a, b"',
      "predict --classes --out")
# numbered rows against a named model: the numbers are the indices
r = run("eval", "--model", m, "--data", put("num.csv", "0.9,0.1,0,0\n0.1,0.2,0.6,1\n"), "--json")
check(r.returncode == 0 and json.loads(r.stdout)["confusion"] == [[1, 0, 0], [0, 0, 1], [0, 0, 0]],
      f"numbers against names: {r.stdout} {r.stderr}")

# --- refusals ----------------------------------------------------------------
one_line_error(run("eval", "--model", m, "--data",
                   put("unk.csv", "f1,f2,f3,c\n1,0,0,<=50K\n0,1,0,iris\n")),
               ':3: class "iris" is not one of the model\'s 3 classes', "unknown class")
numbered = write_model("numbered.safetensors", [3, 3], ["softmax"], "softmax_ce",
                       [([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])], {})
one_line_error(run("eval", "--model", numbered, "--data", data), "names its classes, but",
               "names against a numbered model")
for bad, needle in ((json.dumps(["a", "b"]), "2 names for 3 outputs"),
                    (json.dumps(["a", "b", "a"]), 'appears twice'),
                    ("[1,2,3]", "expected a JSON array of strings"),
                    ("setosa,versicolor,virginica", "expected a JSON array of strings")):
    bm = write_model("bad.safetensors", [3, 3], ["softmax"], "softmax_ce",
                     [([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])], {"classes": bad})
    one_line_error(run("eval", "--model", bm, "--data", data), needle, f"bad classes {bad}")
    one_line_error(run("predict", "--model", bm, "--input", put("x.csv", "1,2,3\n")), needle,
                   f"predict, bad classes {bad}")

# --- words in sorted order are the labels 0..k-1: the same run as numbers -----
rows = [(0.5, -1.0, "yes"), (1.5, 0.25, "no"), (-0.5, 2.0, "yes"), (2.5, -0.75, "no"),
        (0.0, 1.0, "maybe"), (1.0, 0.5, "yes")]
order = {"maybe": 0, "no": 1, "yes": 2}  # by hand: "maybe" < "no" < "yes"
words = put("words.csv", "a,b,answer\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
nums = put("nums.csv", "a,b,answer\n" + "".join(f"{a},{b},{order[c]}\n" for a, b, c in rows))
common = ["--layers", "2,4,3", "--act", "tanh", "--loss", "softmax_ce", "--opt", "adam", "--lr",
          "0.05", "--batch", "2", "--epochs", "3", "--seed", "4", "--val", "0", "--threads", "1"]
rw = run("train", "--data", words, "--out", path("w.st"), *common)
rn = run("train", "--data", nums, "--out", path("n.st"), *common)
check(rw.returncode == 0 and rn.returncode == 0, f"train words/numbers: {rw.stderr} {rn.stderr}")
hw, dw = read_header(path("w.st")) if rw.returncode == 0 else ({}, b"")
hn, dn = read_header(path("n.st")) if rn.returncode == 0 else ({}, b"")
check(json.loads(hw.get("__metadata__", {}).get("classes", "null")) == ["maybe", "no", "yes"],
      f"classes metadata {hw.get('__metadata__')}")
check("classes" not in hn.get("__metadata__", {}), "numbered labels: no classes key")
check(dw == dn and len(dw) > 0, "words train the same network as their sorted indices")
one_line_error(run("train", "--data", words, "--out", path("x.st"),
                   *[v if v != "2,4,3" else "2,4,4" for v in common]),
               "3 named classes for 4 outputs (--layers 2,4,4)", "--layers vs names")
one_line_error(run("train", "--data", put("one.csv", "a,c\n1,x\n2,x\n"), "--layers", "1,2",
                   "--loss", "softmax_ce", "--out", path("x.st")), 'holds one class, "x"',
               "one class")
one_line_error(run("train", "--data", words, "--test", put("t.csv", "a,b,answer\n1,2,no\n3,4,never\n"),
                   "--out", path("x.st"), *common), 'class "never" is not one of the model',
               "train --test with an unknown class")
one_line_error(run("train", "--data", nums, "--test", put("t2.csv", "a,b,answer\n1,2,no\n3,4,yes\n"),
                   "--out", path("x.st"), *common), "names its classes, but", "test names, train numbers")
r = run("train", "--data", words, "--test", put("t3.csv", "a,b,answer\n1,2,yes\n3,4,yes\n"), "--json",
        "--out", path("x.st"), *common)
check(r.returncode == 0, f"train --test of one class, by name: {r.stderr}")

# --- iris as everyone has it: a header, four numbers, the species -------------
r = run("train", "--data", IRIS, "--layers", "4,16,3", "--act", "tanh", "--loss", "softmax_ce",
        "--opt", "adam", "--lr", "0.01", "--batch", "16", "--epochs", "60", "--standardize",
        "--val", "0.2", "--seed", "1", "--threads", "1", "--json", "--out", path("iris.st"))
check(r.returncode == 0, f"iris train: {r.stderr}")
species = ["setosa", "versicolor", "virginica"]
h, _ = read_header(path("iris.st")) if r.returncode == 0 else ({}, b"")
check(json.loads(h.get("__metadata__", {}).get("classes", "null")) == species, "iris classes")
r = run("eval", "--model", path("iris.st"), "--data", IRIS, "--json")
e = json.loads(r.stdout) if r.returncode == 0 else {}
check(e.get("classes") == species and e.get("accuracy", 0) > 0.9, f"iris eval {r.stdout[:200]}")
probs = run("predict", "--model", path("iris.st"), "--data", IRIS)
cls = run("predict", "--model", path("iris.st"), "--data", IRIS, "--classes")
rows = [[float(v) for v in line.split(",")] for line in probs.stdout.split()]
want = [species[max(range(3), key=lambda j: (p[j], -j))] for p in rows]
check(cls.returncode == 0 and cls.stdout.split("\n")[:-1] == want and len(want) == 150,
      "iris predict --classes: the names of the outputs' argmax")
truth = [line.rsplit(",", 1)[1] for line in open(IRIS).read().split("\n")[1:] if line]
check(sum(a == b for a, b in zip(want, truth)) >= 135, "iris predictions mostly right")

# --- widths from the data: --hidden (issue 23, 6) ------------------------------
# iris: N(0) = 4 measurements, N(L) = 3 species; the model byte for byte
# the one of --layers 4,16,8,3
iris_opts = ["--act", "tanh", "--loss", "softmax_ce", "--opt", "adam", "--lr", "0.01", "--batch",
             "16", "--epochs", "3", "--standardize", "--val", "0.2", "--seed", "1", "--threads", "1"]
rh = run("train", "--data", IRIS, "--hidden", "16,8", "--json", "--out", path("ih.st"), *iris_opts)
rl = run("train", "--data", IRIS, "--layers", "4,16,8,3", "--json", "--out", path("il.st"), *iris_opts)
check(rh.returncode == 0 and rl.returncode == 0 and
      open(path("ih.st"), "rb").read() == open(path("il.st"), "rb").read(),
      f"--hidden 16,8 = --layers 4,16,8,3: {rh.stderr} {rl.stderr}")
check(rh.returncode == 0 and json.loads(rh.stdout).get("layers") == "4,16,8,3" and
      json.loads(rl.stdout).get("layers") == "4,16,8,3", f"--json layers: {rh.stdout[:80]}")
check(rh.stderr.split("\n")[0].endswith("--hidden 16,8 on " + IRIS + ": --layers 4,16,8,3"),
      f"--hidden: the first line on stderr: {rh.stderr[:200]!r}")
# two regression targets by name, a category: N(0) = 3 colours + size, N(L) = 2
reg = put("reg.csv", "colour,size,t1,t2\nred,1,0.5,2\nblue,2,1.5,1\ngreen,3,2.5,0\nred,4,3,1\n")
reg_opts = ["--target", "t1,t2", "--loss", "mse", "--epochs", "2", "--val", "0", "--seed", "2",
            "--threads", "1"]
rh = run("train", "--data", reg, "--hidden", "5", "--out", path("rh.st"), *reg_opts)
rl = run("train", "--data", reg, "--layers", "4,5,2", "--out", path("rl.st"), *reg_opts)
check(rh.returncode == 0 and rl.returncode == 0 and
      open(path("rh.st"), "rb").read() == open(path("rl.st"), "rb").read() and
      "--layers 4,5,2" in rh.stderr, f"--hidden on targets and categories: {rh.stderr} {rl.stderr}")
one_line_error(run("train", "--data", IRIS, "--hidden", "16", "--layers", "4,16,3", "--out",
                   path("x.st")), "--hidden and --layers: give one", "--hidden with --layers")
one_line_error(run("train", "--data", IRIS, "--hidden", "16,0", "--out", path("x.st")),
               "--hidden: '0' is not a width", "--hidden 16,0")
one_line_error(run("train", "--data", IRIS, "--out", path("x.st")),
               "give --layers N0,...,NL, or --hidden", "neither --hidden nor --layers")
one_line_error(run("train", "--data", IRIS, "--layers", "5,16,3", "--out", path("x.st")),
               "does not fit --layers 5,16,3: the data set has 4 features, the network 5 inputs",
               "--layers against the data")
one_line_error(run("train", "--data", IRIS, "--hidden", "16", "--loss", "mse", "--out", path("x.st")),
               "does not fit --layers 4,16,3: class labels need loss softmax_ce", "--hidden, mse on classes")

# --- categories and missing values (issue 23, 3-5) ----------------------------
# Quoted, semicolon-separated, an id to drop, a categorical column, missing
# values: trained with --missing mean, the raw rows must give what the rows
# encoded here by hand give to the same model without its encoding.
cat = put("cat.csv", 'id;"color";size;y\n'
          '1;"red";1.5;yes\n2;"blue";;no\n3;"green";2.5;yes\n'
          '4;NA;3.5;no\n5;"red";0.5;no\n6;"blue";2.0;yes\n')
# by hand: color -> (blue, green, red) one-hot, size's fill = (1.5+2.5+3.5+0.5+2)/5 = 2
hand_x = [[0, 0, 1, 1.5], [1, 0, 0, 2.0], [0, 1, 0, 2.5], [0, 0, 0, 3.5], [0, 0, 1, 0.5],
          [1, 0, 0, 2.0]]
hand_csv = put("cat_hand.csv", "".join(",".join(repr(float(v)) for v in r) + "\n" for r in hand_x))
opts = ["--layers", "4,5,2", "--act", "tanh", "--loss", "softmax_ce", "--opt", "adam", "--lr",
        "0.05", "--batch", "3", "--epochs", "4", "--seed", "3", "--val", "0", "--threads", "1"]
r = run("train", "--data", cat, "--target", "y", "--drop", "id", "--missing", "mean",
        "--standardize", "--out", path("cat.st"), *opts)
check(r.returncode == 0, f"train categories: {r.stderr}")
h, blob = read_header(path("cat.st")) if r.returncode == 0 else ({"__metadata__": {}}, b"")
meta = h["__metadata__"]
cols = json.loads(meta.get("columns", "{}"))
check(cols.get("missing") == "mean" and cols.get("columns") == 4 and
      [(c["name"], c["index"], c.get("categories"), c.get("fill")) for c in cols.get("inputs", [])]
      == [("color", 1, ["blue", "green", "red"], None), ("size", 2, None, 2.0)] and
      [(c["name"], c["index"]) for c in cols.get("targets", [])] == [("y", 3)],
      f"columns metadata {cols}")
check(json.loads(meta.get("classes", "null")) == ["no", "yes"], "classes no, yes")
# standardisation of the numeric column only: size after the fill is
# 1.5 2 2.5 3.5 0.5 2: mean 2, population std sqrt(5/6)
mean = [float(v) for v in meta.get("standardize_mean", "").split(",")] if meta.get("standardize_mean") else []
std = [float(v) for v in meta.get("standardize_std", "").split(",")] if meta.get("standardize_std") else []
check(mean[:3] == [0, 0, 0] and std[:3] == [1, 1, 1] and abs(mean[3] - 2.0) < 1e-6 and
      abs(std[3] - (5 / 6) ** 0.5) < 1e-6, f"standardisation {mean} {std}")
# the same model without its encoding: a copy of the file minus "columns"
plain_meta = {k: v for k, v in meta.items() if k != "columns"}
hh = dict(h, __metadata__=plain_meta)
hj = json.dumps(hh).encode()
hj += b" " * (-len(hj) % 8)
with open(path("cat_plain.st"), "wb") as f:
    f.write(struct.pack("<Q", len(hj)) + hj + blob)
raw = run("predict", "--model", path("cat.st"), "--data", cat)
enc = run("predict", "--model", path("cat_plain.st"), "--input", hand_csv)
check(raw.returncode == 0 and enc.returncode == 0 and raw.stdout == enc.stdout and
      len(raw.stdout.split()) == 6, f"raw rows = rows encoded by hand: {raw.stdout} {enc.stdout} "
      f"{raw.stderr} {enc.stderr}")
r = run("predict", "--model", path("cat.st"), "--input", cat)
check(r.returncode == 0 and r.stdout == raw.stdout, f"predict --input raw rows: {r.stderr}")
# the columns by name in another order, without the id and the target
r = run("predict", "--model", path("cat.st"), "--data",
        put("cat_order.csv", 'size,color\n1.5,red\n,blue\n2.5,green\n3.5,\n0.5,red\n2,blue\n'))
check(r.returncode == 0 and r.stdout == raw.stdout, f"columns by name, any order: {r.stderr}")
# an unseen category: all zeros, and one warning naming the column
r = run("predict", "--model", path("cat.st"), "--data", put("cat_new.csv", 'size,color\n3.5,purple\n'))
e = run("predict", "--model", path("cat_plain.st"), "--input", put("cat_new_hand.csv", "0,0,0,3.5\n"))
check(r.returncode == 0 and r.stdout == e.stdout and len(r.stderr.splitlines()) == 1 and
      'warning' in r.stderr and '"color"' in r.stderr and '"purple"' in r.stderr,
      f"unseen category: {r.stdout} {e.stdout} {r.stderr!r}")
# explain on raw rows: the same encoding (issue 23, 4), the file's target column
# its labels (y: yes no yes no no yes -> 1 0 1 0 0 1, "no" < "yes")
ex_raw = run("explain", "--model", path("cat.st"), "--input", cat, "--json")
ex_hand = run("explain", "--model", path("cat_plain.st"), "--input", hand_csv, "--target",
              put("cat_labels.csv", "1\n0\n1\n0\n0\n1\n"), "--json")
check(ex_raw.returncode == 0 and ex_raw.stdout == ex_hand.stdout and '"loss"' in ex_raw.stdout,
      f"explain raw rows = rows encoded by hand: {ex_raw.stderr} {ex_hand.stderr}")
ex_raw = run("explain", "--model", path("cat.st"), "--input", put("ex_one.csv", "size,color\n,red\n"),
             "--target", "1")
ex_hand = run("explain", "--model", path("cat_plain.st"), "--input", "0,0,1,2", "--target", "1")
check(ex_raw.returncode == 0 and ex_raw.stdout == ex_hand.stdout and "x = [0, 0, 1, 2]" in ex_raw.stdout,
      f"explain one raw row, size filled with 2: {ex_raw.stderr} {ex_raw.stdout[:300]}")
one_line_error(run("explain", "--model", path("cat.st"), "--input", put("ex_bad.csv", "size\n1\n")),
               'no column "color", an input of the model', "explain: a missing input column")
r = run("eval", "--model", path("cat.st"), "--data", cat, "--json")
check(r.returncode == 0 and json.loads(r.stdout)["classes"] == ["no", "yes"], f"eval categories {r.stderr}")
# --target by name = by index (3) = by -1; --drop by index
ms = []
for t, d in (("y", "id"), ("3", "0"), ("-1", "id")):
    r = run("train", "--data", cat, "--target", t, "--drop", d, "--missing", "mean",
            "--out", path(f"t{t}.st"), *opts)
    check(r.returncode == 0, f"--target {t}: {r.stderr}")
    ms.append(read_header(path(f"t{t}.st"))[1] if r.returncode == 0 else None)
check(ms[0] is not None and ms[0] == ms[1] == ms[2], "--target by name equals by index")
# --missing drop: rows 2 and 4 left out
r = run("train", "--data", cat, "--target", "y", "--drop", "id", "--missing", "drop",
        "--out", path("drop.st"), *opts)
check(r.returncode == 0 and "training on 4 examples" in r.stdout, f"--missing drop: {r.stdout} {r.stderr}")
# --missing mean takes the training split's mean, not the file's: with
# --val 0.5 --seed 3 the split holds out rows 3, 0, 2 (bp_split: a
# Fisher-Yates shuffle by xoshiro256** seeded through splitmix64 with
# seed ^ 0x5851f42d4c957f2d; split_rows below draws it the same way), so
# the training rows are 5, 4, 1, whose sizes are 2.0, 0.5 and a missing
# one: fill (2.0 + 0.5) / 2 = 1.25, where the whole file's mean is 2
# (above). The standardisation then sees 2.0, 0.5, 1.25: mean 1.25.
def split_rows(seed, n, frac):
    m64 = (1 << 64) - 1
    x, s = seed ^ 0x5851f42d4c957f2d, []
    for _ in range(4):
        x = (x + 0x9e3779b97f4a7c15) & m64
        z = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & m64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & m64
        s.append(z ^ (z >> 31))
    rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & m64
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        out = (rotl((s[1] * 5) & m64, 7) * 9) & m64
        t = (s[1] << 17) & m64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        j = out % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm[:int(frac * n)], perm[int(frac * n):]


check(split_rows(3, 6, 0.5) == ([3, 0, 2], [5, 4, 1]), "the split by hand")
r = run("train", "--data", cat, "--target", "y", "--drop", "id", "--missing", "mean", "--standardize",
        "--out", path("split.st"), *[v if v != "0" else "0.5" for v in opts])
check(r.returncode == 0 and "training on 3 examples (3 held out)" in r.stdout, f"--val 0.5: {r.stderr}")
meta = read_header(path("split.st"))[0]["__metadata__"] if r.returncode == 0 else {}
cols = json.loads(meta.get("columns", "{}"))
check([c.get("fill") for c in cols.get("inputs", [])] == [None, 1.25],
      f"the training split's fill 1.25, not the file's 2: {cols}")
check(meta.get("standardize_mean", "").split(",")[3:] == ["1.25"],
      f"standardised over the filled training rows: {meta.get('standardize_mean')}")
a = run("predict", "--model", path("split.st"), "--data", put("fill_a.csv", "size,color\n,red\n"))
b = run("predict", "--model", path("split.st"), "--data", put("fill_b.csv", "size,color\n1.25,red\n"))
check(a.returncode == 0 and a.stdout == b.stdout and a.stdout, f"predict fills 1.25: {a.stdout} {b.stdout}")
# refusals, one line each
one_line_error(run("train", "--data", cat, "--target", "nope", "--out", path("x.st"), *opts),
               '--target "nope": no such column', "unknown --target")
one_line_error(run("train", "--data", cat, "--target", "y", "--drop", "weight", "--out",
                   path("x.st"), *opts), '--drop "weight": no such column', "unknown --drop")
one_line_error(run("train", "--data", cat, "--target", "y", "--drop", "id", "--out", path("x.st"),
                   *opts), ':3:3: a missing value (empty, NA, NaN or ?) in column "size"; 2 rows '
               'have one', "--missing error")
one_line_error(run("train", "--data", cat, "--target", "y", "--drop", "id", "--missing", "mean",
                   "--max-categories", "2", "--out", path("x.st"), *opts),
               "more than 2 distinct words in column 2", "--max-categories")
one_line_error(run("predict", "--model", path("cat.st"), "--data",
                   put("cat_miss.csv", "color\nred\n")), 'no column "size", an input of the model',
               "a missing input column")
one_line_error(run("train", "--data", put("mixed.csv", "a,b,y\n1,x,0\n2,3,1\n"), "--layers", "2,2",
                   "--out", path("x.st")), ':3:2: "3" is a number, but the column\'s first value '
               '(line 2) is a word', "a column of numbers and words")
r = run("train", "--data", cat, "--target", "y", "--drop", "id", "--missing", "drop",
        "--out", path("nofill.st"), *opts)
one_line_error(run("predict", "--model", path("nofill.st"), "--data", cat),
               "the model was not trained with --missing mean", "predict: missing without a fill")
many = path("many.csv")
with open(many, "w") as f:
    f.write("c,y\n" + "".join(f"w{i},{i % 2}\n" for i in range(100000)))
r = run("train", "--data", many, "--layers", "1000,2", "--out", path("x.st"))
one_line_error(r, "more than 1000 distinct words in column 1", "10^5 categories")

# --- fashion-mnist carries its names ------------------------------------------
if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    fm = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
          "Bag", "Ankle boot"]
    r = run("train", "--data", "fashion-mnist", "--layers", "784,10", "--loss", "softmax_ce",
            "--epochs", "1", "--batch", "1000", "--val", "0", "--threads", "2", "--json",
            "--out", path("f.st"))
    h, _ = read_header(path("f.st")) if r.returncode == 0 else ({}, b"")
    check(json.loads(h.get("__metadata__", {}).get("classes", "null")) == fm,
          f"fashion-mnist classes: {r.stderr}")
    r = run("predict", "--model", path("f.st"), "--data", "fashion-mnist", "--classes")
    out = r.stdout.split("\n")[:-1]
    check(r.returncode == 0 and len(out) == 10000 and set(out) <= set(fm), "fashion predict names")
    r = run("eval", "--model", path("f.st"), "--data", "fashion-mnist")
    check(r.returncode == 0 and "most confused (true → predicted): " in r.stdout and
          any(f"{a} → " in r.stdout for a in fm), f"fashion eval names {r.stdout[-300:]}")
else:
    print("fashion-mnist not installed: its names not checked")

print(f"{passes} checks, {fails} failed")
sys.exit(1 if fails else 0)
