#!/usr/bin/env python3
"""The layout's rules, checked on the sources and on the built objects.

    check_layout.py SRC_DIR BUILD_DIR

The folders are layers, each allowed to use only itself and those below:

    base <- nn <- backend <- train <- io <- cli

1. Includes: a file may include a folder-qualified header ("nn/nn.h") of
   its own layer or one below; cuda.h only inside src/backend/.
2. Calls: every symbol an object file of one layer takes from another
   object of the library or CLI (nm) is defined in its own layer or one
   below. A function pointer in a table is no call: nn reaches a backend
   only through the table that nn itself declares.
3. CUDA contained: no BP_HAVE_CUDA conditional outside src/backend/.
4. Sizes: no file under src/ or cli/ over 600 lines; cli/cmd_train.c at
   most 250.

Each broken rule is one line; the exit status is 1 if any is.
"""
import os
import re
import subprocess
import sys

LAYERS = ["base", "nn", "backend", "train", "io", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}
MAX_LINES = 600
MAX_LINES_OF = {"cli/cmd_train.c": 250}


def layer_of(rel):
    """The layer of a path relative to the source root, or None."""
    parts = rel.split("/")
    if parts[0] == "cli":
        return "cli"
    if parts[0] == "src" and len(parts) > 2 and parts[1] in RANK:
        return parts[1]
    return None


def sources(src):
    for top in ("src", "cli"):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h", ".cu", ".cuh")):
                    path = os.path.join(root, f)
                    yield os.path.relpath(path, src), path


def check_includes(src, bad):
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for rel, path in sources(src):
        me = layer_of(rel)
        text = open(path, encoding="utf-8").read()
        for name in inc.findall(text):
            head = name.split("/")[0]
            if "/" in name and head in RANK and me and RANK[head] > RANK[me]:
                bad.append(f"{rel}: includes {name}: {me} may not include {head} (above it)")
            if name == "cuda.h" and me != "backend":
                bad.append(f"{rel}: includes cuda.h outside src/backend/")
        if "BP_HAVE_CUDA" in text and me != "backend" and me is not None:
            for n, line in enumerate(text.splitlines(), 1):
                if re.search(r"#\s*(if|ifdef|ifndef|elif).*BP_HAVE_CUDA", line):
                    bad.append(f"{rel}:{n}: a BP_HAVE_CUDA conditional outside src/backend/")
        lines = text.count("\n")
        limit = MAX_LINES_OF.get(rel, MAX_LINES)
        if lines > limit:
            bad.append(f"{rel}: {lines} lines, more than {limit}")


def objects(build):
    """(layer, object name, path) of every object of the library and CLI."""
    out = []
    for root, _, files in os.walk(os.path.join(build, "CMakeFiles")):
        for f in files:
            if not f.endswith(".o"):
                continue
            path = os.path.join(root, f)
            m = re.search(r"/(?:bp_objects|backprop)\.dir/((?:src|cli)/.*)\.o$", path)
            if not m:
                continue
            rel = m.group(1)
            if layer_of(rel):
                out.append((layer_of(rel), rel, path))
    return out


def check_calls(build, bad):
    objs = objects(build)
    if not objs:
        bad.append(f"no object files of the library under {build}: build it first")
        return 0
    defined, uses = {}, {}
    for layer, rel, path in objs:
        nm = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
        for line in nm.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBRVW":
                defined[f[2]] = (layer, rel)
            elif len(f) == 2 and f[0] == "U":
                uses.setdefault((layer, rel), set()).add(f[1])
    edges = 0
    for (layer, rel), syms in sorted(uses.items()):
        for s in sorted(syms):
            if s not in defined:
                continue
            to_layer, to_rel = defined[s]
            edges += 1
            if RANK[to_layer] > RANK[layer]:
                bad.append(f"{rel}: calls {s} of {to_rel}: {layer} may not call {to_layer} (above it)")
    return edges


def selftest():
    """The checker on a small tree that breaks each rule once: it must say so."""
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(t, rel)), exist_ok=True)
            with open(os.path.join(t, rel), "w") as f:
                f.write(text)
        write("src/nn/a.c", '#include "train/train.h"\nint b(void);\nint a(void) { return b(); }\n')
        write("src/train/b.c", "#ifdef BP_HAVE_CUDA\n#endif\nint b(void) { return 1; }\n")
        write("src/train/train.h", "")
        write("cli/cmd_train.c", "\n" * 251)
        for rel in ("src/nn/a.c", "src/train/b.c"):
            obj = os.path.join(t, "build/CMakeFiles/bp_objects.dir", rel + ".o")
            os.makedirs(os.path.dirname(obj), exist_ok=True)
            subprocess.run(["cc", "-c", "-I" + os.path.join(t, "src"), os.path.join(t, rel), "-o", obj],
                           check=True, capture_output=True)
        bad = []
        check_includes(t, bad)
        check_calls(os.path.join(t, "build"), bad)
        want = ["includes train/train.h", "calls b of", "BP_HAVE_CUDA conditional", "cmd_train.c: 251"]
        missed = [w for w in want if not any(w in b for b in bad)]
        if missed or len(bad) != len(want):
            print("FAIL the checker itself: on a tree breaking each rule once it said", bad)
            return 1
    return 0


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, build = sys.argv[1], sys.argv[2]
    if selftest():
        sys.exit(1)
    bad = []
    check_includes(src, bad)
    edges = check_calls(build, bad)
    for b in bad:
        print("FAIL", b)
    print(f"{edges} calls between files checked; {len(bad)} broken rule(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
