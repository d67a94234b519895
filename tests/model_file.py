"""Model files written by the tests themselves, from docs/formats.md's
safetensors layout: an independent way to hand the CLI set weights."""
import json
import struct


def write_model(path, sizes, acts, loss, params, extra=None):
    """params: [(W as rows, b)] per layer; extra: more metadata. Returns path."""
    meta = {"format": "backprop", "sizes": ",".join(map(str, sizes)),
            "activations": ",".join(acts), "loss": loss, **(extra or {})}
    header, blob = {"__metadata__": meta}, b""
    for l, (W, b) in enumerate(params):
        for key, vals, shape in ((f"layers.{l}.weight", [v for r in W for v in r],
                                  [len(W), len(W[0])]), (f"layers.{l}.bias", b, [len(b)])):
            data = struct.pack(f"<{len(vals)}f", *vals)
            header[key] = {"dtype": "F32", "shape": shape,
                           "data_offsets": [len(blob), len(blob) + len(data)]}
            blob += data
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)
    return path
