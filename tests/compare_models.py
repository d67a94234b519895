#!/usr/bin/env python3
"""compare_models.py A B [TOL]: every parameter of two model files (safetensors,
F32) agrees within TOL relative to the tensor's largest magnitude (default 1e-5).
Reads the files with the standard library only, independently of backprop's
reader. Prints the largest relative difference; exit 1 if over TOL."""
import json, struct, sys


def tensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        out[name] = struct.unpack("<%df" % ((e - b) // 4), data[b:e])
    return out


def main():
    a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    if sorted(a) != sorted(b):
        print("different tensors: %s vs %s" % (sorted(a), sorted(b)))
        return 1
    worst = 0.0
    for name in a:
        scale = max(max(abs(v) for v in a[name]), 1e-30)
        d = max(abs(x - y) for x, y in zip(a[name], b[name])) / scale
        worst = max(worst, d)
    print("largest relative difference %.3g (tolerance %g)" % (worst, tol))
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
