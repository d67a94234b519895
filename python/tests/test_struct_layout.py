"""The structs _lib.py declares in ctypes against C's own sizeof and
offsetof (tests/struct_layout.c, built by CMake): a field the header
gains, loses, moves or resizes without _lib.py following fails here,
instead of as a wrong value or a crash in a call."""
import ctypes
import json
import os
import subprocess

import pytest

from backprop import _lib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PROGRAM = os.environ.get("BACKPROP_STRUCT_LAYOUT",
                         os.path.join(ROOT, "build", "tests", "struct_layout"))

# every ctypes.Structure of _lib.py, by the C name its comment gives
DECLARED = {"bp_config": _lib.Config, "bp_opt_config": _lib.OptConfig, "bp_error": _lib.Error,
            "bp_metrics": _lib.Metrics, "bp_rng": _lib.Rng, "bp_epoch_hooks": _lib.EpochHooks}


@pytest.fixture(scope="module")
def layout():
    out = subprocess.run([PROGRAM], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_every_struct_of_lib_is_listed():
    found = {v for v in vars(_lib).values()
             if isinstance(v, type) and issubclass(v, ctypes.Structure)}
    assert found == set(DECLARED.values())


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_struct_matches_c(layout, name):
    cls, c = DECLARED[name], layout[name]
    py = {f[0]: (getattr(cls, f[0]).offset, getattr(cls, f[0]).size) for f in cls._fields_}
    assert list(py) == list(c["fields"]), f"{name}: fields {list(py)}, C has {list(c['fields'])}"
    for field, (off, size) in c["fields"].items():
        assert py[field] == (off, size), (f"{name}.{field}: ctypes offset {py[field][0]} size "
                                          f"{py[field][1]}, C offset {off} size {size}")
    assert ctypes.sizeof(cls) == c["size"], (f"{name}: ctypes size {ctypes.sizeof(cls)}, "
                                             f"C sizeof {c['size']}")
