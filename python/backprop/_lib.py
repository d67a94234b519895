"""The C library through ctypes: where it is found, the structs as the
header declares them, each function's signature, and statuses turned into
exceptions that carry the library's one-line message.

Nothing here computes: every number comes from libbackprop.
"""
import ctypes
import os
import threading
from ctypes import (POINTER, c_char, c_char_p, c_double, c_float, c_int, c_int32, c_long,
                    c_size_t, c_uint64, c_void_p)

# the version of the C header this package is written against: a library
# of another minor version has other struct layouts
HEADER_VERSION = "0.2"

_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("BACKPROP_LIBRARY")
    if env:
        return [env], "BACKPROP_LIBRARY=" + env
    names = ["libbackprop.so.0", "libbackprop.so"]
    places = [_HERE,  # installed: beside the package
              os.path.join(_HERE, "..", "..", "build")]  # the source tree's build
    return [os.path.join(p, n) for p in places for n in names], None


def _load():
    paths, told = _candidates()
    tried = []
    for path in paths:
        if told is None and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path), os.path.normpath(path)
        except OSError as e:
            raise ImportError(f"backprop: cannot load the C library {path}: {e}") from None
    where = told or ", ".join(os.path.normpath(p) for p in tried)
    raise ImportError("backprop: the C library libbackprop.so was not found (looked at "
                      f"{where}): build it with `make` in the source tree, install it with "
                      "`make install`, or set BACKPROP_LIBRARY to its path")


lib, LIBRARY_PATH = _load()

lib.bp_version.restype = c_char_p
lib.bp_version.argtypes = []
VERSION = lib.bp_version().decode()
if VERSION.rsplit(".", 1)[0] != HEADER_VERSION:
    raise ImportError(f"backprop: the C library at {LIBRARY_PATH} is version {VERSION}; this "
                      f"package needs {HEADER_VERSION}.x: rebuild or reinstall both together")

# ---- enums, in the header's order ---------------------------------------

ACTS = ["identity", "sigmoid", "relu", "leaky_relu", "tanh", "softmax"]
LOSSES = ["mse", "softmax_ce", "sigmoid_bce"]
DEVICES = ["cpu", "cuda"]
GEMMS = ["onednn", "cblas"]
OPTS = ["sgd", "momentum", "nesterov", "adam", "adamw"]
SCHEDULES = ["constant", "step", "cosine", "invscaling", "adaptive"]

OK, ERR_ARG, ERR_NOMEM, ERR_IO, ERR_FORMAT, ERR_SHAPE, ERR_NONFINITE, STOPPED = range(8)

# ---- structs --------------------------------------------------------------


class Config(ctypes.Structure):  # bp_config
    _fields_ = [("size", c_size_t), ("n_layers", c_int), ("sizes", POINTER(c_int)),
                ("acts", POINTER(c_int)), ("loss", c_int), ("temperature", c_double),
                ("leaky_slope", c_double), ("device", c_int)]


class OptConfig(ctypes.Structure):  # bp_opt_config
    _fields_ = [("size", c_size_t), ("kind", c_int), ("lr", c_double), ("momentum", c_double),
                ("beta1", c_double), ("beta2", c_double), ("eps", c_double),
                ("weight_decay", c_double), ("clip_norm", c_double), ("schedule", c_int),
                ("warmup_steps", c_long), ("total_steps", c_long), ("step_size", c_long),
                ("gamma", c_double), ("min_lr", c_double), ("l2", c_double),
                ("power_t", c_double)]


class Error(ctypes.Structure):  # bp_error
    _fields_ = [("msg", c_char * 512)]


class Metrics(ctypes.Structure):  # bp_metrics
    _fields_ = [("loss", c_double), ("accuracy", c_double), ("mse_fann", c_double),
                ("bit_fail", c_long)]


class Rng(ctypes.Structure):  # bp_rng
    _fields_ = [("s", c_uint64 * 4)]


_HOOK = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)


class EpochHooks(ctypes.Structure):  # bp_epoch_hooks
    _fields_ = [("size", c_size_t), ("rank", c_int), ("ranks", c_int),
                ("after_backward", _HOOK), ("after_step", _HOOK), ("ctx", c_void_p),
                ("stop", POINTER(c_int)),  # sig_atomic_t is int on every Linux ABI
                ("grads_ready", ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_size_t)),
                ("bucket", c_size_t)]


def opt_config(**fields):
    """A bp_opt_config at BP_OPT_CONFIG_DEFAULT's values, then the fields given."""
    c = OptConfig(ctypes.sizeof(OptConfig), OPTS.index("sgd"), 0.1, 0.9, 0.9, 0.999, 1e-8,
                  0.0, 0.0, SCHEDULES.index("constant"), 0, 0, 0, 0.1, 0.0, 0.0, 0.5)
    for k, v in fields.items():
        setattr(c, k, v)
    return c


# ---- functions ------------------------------------------------------------

NET = c_void_p
P_F32 = POINTER(c_float)
P_I32 = POINTER(c_int32)


def _sig(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


for _name, _res, _args in [
        ("bp_last_error", c_char_p, ()),
        ("bp_status_string", c_char_p, (c_int,)),
        ("bp_free", None, (c_void_p,)),
        ("bp_net_create", NET, (POINTER(Config), c_int, POINTER(Error))),
        ("bp_net_free", None, (NET,)),
        ("bp_net_init", c_int, (NET, c_uint64)),
        ("bp_net_init_uniform", c_int, (NET, c_uint64, c_double)),
        ("bp_net_set_device", c_int, (NET, c_int, POINTER(Error))),
        ("bp_net_device", c_int, (NET,)),
        ("bp_net_n_layers", c_int, (NET,)),
        ("bp_net_size", c_int, (NET, c_int)),
        ("bp_net_act", c_int, (NET, c_int)),
        ("bp_net_loss", c_int, (NET,)),
        ("bp_net_temperature", c_double, (NET,)),
        ("bp_net_leaky_slope", c_double, (NET,)),
        ("bp_net_max_batch", c_int, (NET,)),
        ("bp_net_n_params", c_size_t, (NET,)),
        ("bp_net_params", P_F32, (NET,)),
        ("bp_net_weight_offset", c_size_t, (NET, c_int)),
        ("bp_net_bias_offset", c_size_t, (NET, c_int)),
        ("bp_net_set_standardize", c_int, (NET, P_F32, P_F32)),
        ("bp_net_mean", P_F32, (NET,)),
        ("bp_net_std", P_F32, (NET,)),
        ("bp_net_set_threads", c_int, (NET, c_int)),
        ("bp_net_threads", c_int, (NET,)),
        ("bp_net_set_gemm", c_int, (NET, c_int)),
        ("bp_net_gemm", c_int, (NET,)),
        ("bp_predict", c_int, (NET, c_void_p, c_long, c_void_p, POINTER(Error))),
        ("bp_predict_rows", c_int, (NET, c_void_p, c_long, c_void_p, POINTER(Error))),
        ("bp_model_save", c_int, (NET, c_char_p, POINTER(Error))),
        ("bp_model_load", c_int, (c_char_p, c_int, POINTER(NET), POINTER(Error))),
        ("bp_model_export_onnx", c_int, (NET, c_char_p, POINTER(Error))),
        ("bp_optimizer_create", c_void_p, (POINTER(OptConfig), c_size_t, POINTER(Error))),
        ("bp_optimizer_free", None, (c_void_p,)),
        ("bp_optimizer_lr", c_double, (c_void_p,)),
        ("bp_optimizer_steps", c_long, (c_void_p,)),
        ("bp_optimizer_plateau", c_int, (c_void_p, POINTER(c_int))),
        ("bp_dataset_from_memory", c_void_p, (c_void_p, c_void_p, c_void_p, c_long, c_int,
                                              c_int, POINTER(Error))),
        ("bp_dataset_from_memory_f64", c_void_p, (c_void_p, c_void_p, c_void_p, c_long, c_int,
                                                  c_int, POINTER(Error))),
        ("bp_dataset_free", None, (c_void_p,)),
        ("bp_train_epoch", c_int, (NET, c_void_p, c_void_p, P_I32, c_int, c_int,
                                   POINTER(EpochHooks), POINTER(c_double), POINTER(c_int))),
        ("bp_evaluate", c_int, (NET, c_void_p, P_I32, c_int, POINTER(Metrics), c_void_p)),
        ("bp_split", c_int, (c_uint64, c_int, c_double, P_I32, POINTER(c_int), POINTER(Rng))),
        ("bp_split_classes", c_int, (c_uint64, P_I32, c_int, c_int, c_int, P_I32,
                                     POINTER(Rng))),
        ("bp_rng_seed", None, (POINTER(Rng), c_uint64)),
        ("bp_shuffle", c_int, (POINTER(Rng), P_I32, c_int)),
        ("bp_checkpoint_save", c_int, (c_char_p, NET, c_void_p, c_void_p, c_int,
                                       POINTER(Error))),
        ("bp_checkpoint_load", c_int, (c_char_p, NET, c_void_p, c_void_p, c_int,
                                       POINTER(Error))),
]:
    _sig(_name, _res, *_args)

HAS_CLASSES = hasattr(lib, "bp_net_set_classes")
if HAS_CLASSES:
    _sig("bp_net_set_classes", c_int, NET, c_int, POINTER(c_char_p))
    _sig("bp_net_class", c_char_p, NET, c_int)

# ---- errors ---------------------------------------------------------------


class BackpropError(Exception):
    """A failure the library reported; .status is its bp_status."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class ShapeError(BackpropError, ValueError):
    pass


class ArgumentError(BackpropError, ValueError):
    pass


class FormatError(BackpropError, ValueError):
    pass


class NonFiniteError(BackpropError, ValueError):
    pass


_BY_STATUS = {ERR_ARG: ArgumentError, ERR_SHAPE: ShapeError, ERR_FORMAT: FormatError,
              ERR_NONFINITE: NonFiniteError}


def error(status, message=None):
    """The exception for a status, with the library's line (bp_last_error of
    this thread, or the bp_error's message)."""
    if message is None:
        message = lib.bp_last_error().decode(errors="replace")
    if status == ERR_NOMEM:
        return MemoryError(message)
    if status == ERR_IO:
        return OSError(message)
    return _BY_STATUS.get(status, BackpropError)(message, status)


def check(status, err=None):
    """Raises the status's exception unless it is BP_OK."""
    if status != OK:
        raise error(status, err.msg.decode(errors="replace") if err is not None else None)


# ---- a long call that Ctrl-C can stop -------------------------------------


def interruptible(call, stop):
    """Runs call() and returns its result, or raises what it raised. In the
    main thread the call runs on a worker thread so that the main one stays
    in the interpreter, where KeyboardInterrupt arrives: it sets the flag
    stop (a c_int that the library's passes read, bp_epoch_hooks.stop), the
    pass in flight finishes its step (well under a second) and raises
    KeyboardInterrupt on the worker, and the KeyboardInterrupt goes on from
    here. ctypes releases the GIL around library calls, so other threads
    run. Off the main thread (a worker already, or the caller's own) the
    call runs in place."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    stop.value = 0
    box = {}

    def run():
        try:
            box["value"] = call()
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = e

    worker = threading.Thread(target=run, name="backprop", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
    except KeyboardInterrupt:
        stop.value = 1
        worker.join()
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def last_error():
    return lib.bp_last_error().decode(errors="replace")
