"""onnx_check.py M.onnx...: each exported model against Debian's python3-onnx
and against its own model file (M.safetensors beside it, read here with
json and struct alone): onnx.checker.check_model(full_check=True), which
runs strict shape inference; the bytes equal to protobuf's own encoding of
the decoded message (the hand-written encoder writes canonical protobuf);
IR version 7 and opset 13; input x [N, N(0)] float32 and output y
[N, N(L)], plus label [N] int64 for softmax_ce alone; the weights, biases
and standardisation byte for byte those of the model file; the metadata.
Prints one line per problem and exits 1 if there was any."""
import json
import struct
import sys

import onnx
from onnx import TensorProto, numpy_helper

problems = []


def bad(path, msg):
    problems.append(f"{path}: {msg}")
    print(f"FAIL: {path}: {msg}")


def safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    tensors = {k: data[v["data_offsets"][0]:v["data_offsets"][1]]
               for k, v in header.items() if k != "__metadata__"}
    return header["__metadata__"], tensors


def shape(vi):
    t = vi.type.tensor_type
    return t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]


def check(path):
    with open(path, "rb") as f:
        raw = f.read()
    m = onnx.load_from_string(raw)
    try:
        onnx.checker.check_model(m, full_check=True)
    except Exception as e:  # the checker's own exception types vary by version
        return bad(path, f"check_model: {str(e).splitlines()[0]}")
    if m.SerializeToString() != raw:
        bad(path, "the file is not protobuf's canonical encoding of its message")
    if m.ir_version != 7 or [(o.domain, o.version) for o in m.opset_import] != [("", 13)]:
        bad(path, f"IR {m.ir_version}, opsets {m.opset_import}")
    meta, tensors = safetensors(path[:-len(".onnx")] + ".safetensors")
    sizes = [int(s) for s in meta["sizes"].split(",")]
    g = m.graph
    if [(i.name, shape(i)) for i in g.input] != [("x", (TensorProto.FLOAT, ["N", sizes[0]]))]:
        bad(path, f"inputs {[(i.name, shape(i)) for i in g.input]}")
    want = [("y", (TensorProto.FLOAT, ["N", sizes[-1]]))]
    if meta["loss"] == "softmax_ce":
        want.append(("label", (TensorProto.INT64, ["N"])))
    if [(o.name, shape(o)) for o in g.output] != want:
        bad(path, f"outputs {[(o.name, shape(o)) for o in g.output]}, expected {want}")
    props = {p.key: p.value for p in m.metadata_props}
    for k in ("sizes", "activations", "loss", "temperature", "leaky_slope"):
        if props.get(k) != meta.get(k):
            bad(path, f"metadata {k} = {props.get(k)!r}, the model file has {meta.get(k)!r}")
    if "backprop_version" not in props:
        bad(path, "no backprop_version in the metadata")
    inits = {t.name: t for t in g.initializer}
    for name, data in tensors.items():
        if name not in inits or numpy_helper.to_array(inits[name]).tobytes() != data:
            bad(path, f"initializer {name} differs from the model file's tensor")
    mean = meta.get("standardize_mean")
    ops = [n.op_type for n in g.node]
    if mean is not None:
        for key in ("standardize_mean", "standardize_std"):
            want = struct.pack(f"<{sizes[0]}f", *[float(v) for v in meta[key].split(",")])
            if key not in inits or numpy_helper.to_array(inits[key]).tobytes() != want:
                bad(path, f"initializer {key} differs from the model file's metadata")
        if ops[:2] != ["Sub", "Div"]:
            bad(path, f"a standardised model's graph starts {ops[:2]}")
    elif "Sub" in ops:
        bad(path, "Sub in the graph of a model without standardisation")
    if ops.count("Gemm") != len(sizes) - 1:
        bad(path, f"{ops.count('Gemm')} Gemm nodes for {len(sizes) - 1} layers")


for p in sys.argv[1:]:
    check(p)
print(f"onnx_check.py: {len(sys.argv) - 1} models, {len(problems)} problems")
sys.exit(1 if problems else 0)
