"""backprop.Network: one libbackprop network, numpy arrays in and out.

Every computation is the library's; this layer converts arrays, holds the
handles and turns statuses into exceptions (see _lib.py).
"""
import ctypes
import os
import tempfile
from ctypes import byref, c_double, c_int

import numpy as np

from . import _lib
from ._lib import lib

OUTPUT_OF_LOSS = {"softmax_ce": "softmax", "sigmoid_bce": "sigmoid", "mse": "identity"}


def _f32(X, what="X", ndim=2):
    """X as a float32 C-contiguous array: the array itself where it already
    is one (no copy), else one conversion."""
    a = np.ascontiguousarray(X, dtype=np.float32)
    if a.ndim != ndim:
        raise ValueError(f"{what} has {a.ndim} dimensions, expected {ndim}")
    return a


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


class Dataset:
    """Examples copied into the library: x [n, n_in] and either class labels
    [n] (int) or targets [n, n_out]. A float64 C-contiguous X goes to the
    library as it is, which rounds it to float32 in its own copy (one copy
    of the data, not two); any other is converted to float32 first."""

    def __init__(self, X, y, n_out, labels):
        f64 = (type(X) is np.ndarray and X.dtype == np.float64 and X.ndim == 2 and
               X.flags.c_contiguous)
        x = X if f64 else _f32(X)
        make = lib.bp_dataset_from_memory_f64 if f64 else lib.bp_dataset_from_memory
        n, n_in = x.shape
        err = _lib.Error()
        if labels:
            lab = np.ascontiguousarray(y, dtype=np.int32).reshape(-1)
            h = make(_ptr(x), None, _ptr(lab), n, n_in, n_out, byref(err))
        else:
            t = _f32(np.asarray(y).reshape(n, -1) if np.ndim(y) == 1 else y, "y")
            h = make(_ptr(x), _ptr(t), None, n, n_in, t.shape[1], byref(err))
        if not h:
            raise _lib.ArgumentError(err.msg.decode(errors="replace"), _lib.ERR_ARG)
        self.handle, self.n = h, n

    def __del__(self):
        if getattr(self, "handle", None):
            lib.bp_dataset_free(self.handle)
            self.handle = None


class Network:
    """A fully connected network of the library.

    layers: the widths N(0..L), e.g. [784, 256, 10]; activation: the hidden
    layers' (one name, or one per hidden layer: identity, sigmoid, relu,
    leaky_relu, tanh); loss: mse, softmax_ce or sigmoid_bce; output: the
    output layer's activation (by default softmax for softmax_ce, sigmoid for
    sigmoid_bce, identity for mse). max_batch bounds the examples of one
    forward pass (predict splits larger inputs). threads, gemm and device as
    the library's bp_net_set_threads, bp_net_set_gemm, bp_net_set_device.
    The weights start as bp_net_init(seed) makes them.
    """

    def __init__(self, layers, activation="relu", loss="mse", output=None, temperature=1.0,
                 leaky_slope=0.01, max_batch=256, threads=1, gemm=None, device="cpu", seed=1,
                 _handle=None):
        self._stop = c_int(0)
        if _handle is not None:
            self._h = _handle
        else:
            layers = [int(n) for n in layers]
            L = len(layers) - 1
            if L < 1:
                raise ValueError(f"layers {layers}: need at least an input and an output width")
            hidden = [activation] * (L - 1) if isinstance(activation, str) else list(activation)
            if len(hidden) != L - 1:
                raise ValueError(f"{len(hidden)} hidden activations for {L - 1} hidden layers")
            out = output if output is not None else OUTPUT_OF_LOSS.get(loss)
            acts = [_name(_lib.ACTS, a, "activation") for a in hidden + [out]]
            sizes = (c_int * (L + 1))(*layers)
            cfg = _lib.Config(ctypes.sizeof(_lib.Config), L, sizes, (c_int * L)(*acts),
                              _name(_lib.LOSSES, loss, "loss"), float(temperature),
                              float(leaky_slope), _lib.DEVICES.index("cpu"))
            err = _lib.Error()
            h = lib.bp_net_create(byref(cfg), int(max_batch), byref(err))
            if not h:
                raise _lib.ArgumentError(err.msg.decode(errors="replace"), _lib.ERR_ARG)
            self._h = h
            _lib.check(lib.bp_net_init(h, int(seed) & (2**64 - 1)))
        L = lib.bp_net_n_layers(self._h)
        self._n_in, self._k = lib.bp_net_size(self._h, 0), lib.bp_net_size(self._h, L)
        if threads is not None:
            self.threads = threads
        if gemm is not None:
            self.gemm = gemm
        if device is not None and device != "cpu":
            self.device = device

    def __del__(self):
        if getattr(self, "_h", None):
            lib.bp_net_free(self._h)
            self._h = None

    # ---- shape ----------------------------------------------------------

    @property
    def layers(self):
        return [lib.bp_net_size(self._h, l) for l in range(lib.bp_net_n_layers(self._h) + 1)]

    @property
    def activations(self):
        L = lib.bp_net_n_layers(self._h)
        return [_lib.ACTS[lib.bp_net_act(self._h, l)] for l in range(1, L + 1)]

    @property
    def loss(self):
        return _lib.LOSSES[lib.bp_net_loss(self._h)]

    @property
    def temperature(self):
        return lib.bp_net_temperature(self._h)

    @property
    def leaky_slope(self):
        return lib.bp_net_leaky_slope(self._h)

    @property
    def max_batch(self):
        return lib.bp_net_max_batch(self._h)

    # ---- where it runs --------------------------------------------------

    @property
    def threads(self):
        return lib.bp_net_threads(self._h)

    @threads.setter
    def threads(self, n):
        _lib.check(lib.bp_net_set_threads(self._h, int(n)))

    @property
    def gemm(self):
        return _lib.GEMMS[lib.bp_net_gemm(self._h)]

    @gemm.setter
    def gemm(self, name):
        _lib.check(lib.bp_net_set_gemm(self._h, _name(_lib.GEMMS, name, "gemm")))

    @property
    def device(self):
        return _lib.DEVICES[lib.bp_net_device(self._h)]

    @device.setter
    def device(self, name):
        err = _lib.Error()
        _lib.check(lib.bp_net_set_device(self._h, _name(_lib.DEVICES, name, "device"),
                                         byref(err)), err)

    # ---- parameters -----------------------------------------------------

    def _view(self, ptr, offset, shape):
        n = int(np.prod(shape))
        buf = (ctypes.c_float * n).from_address(ctypes.addressof(ptr.contents) + 4 * offset)
        buf._owner = self  # the view keeps the network alive
        return np.frombuffer(buf, dtype=np.float32).reshape(shape)

    @property
    def params(self):
        """All parameters as one float32 view [P] of the library's buffer,
        current when taken: take it again after training (a step may leave
        part of its update to the next pass, which this call completes).
        Writes through it are seen by the next pass."""
        return self._view(lib.bp_net_params(self._h), 0, (lib.bp_net_n_params(self._h),))

    def weight(self, l):
        """W(l) as a view [N(l+1), N(l)] (row j: the weights into neuron j),
        current as params is."""
        sizes = self.layers
        if not 0 <= l < len(sizes) - 1:
            raise IndexError(f"layer {l} not in 0..{len(sizes) - 2}")
        return self._view(lib.bp_net_params(self._h), lib.bp_net_weight_offset(self._h, l),
                          (sizes[l + 1], sizes[l]))

    def bias(self, l):
        """b(l) as a view [N(l+1)], current as params is."""
        sizes = self.layers
        if not 0 <= l < len(sizes) - 1:
            raise IndexError(f"layer {l} not in 0..{len(sizes) - 2}")
        return self._view(lib.bp_net_params(self._h), lib.bp_net_bias_offset(self._h, l),
                          (sizes[l + 1],))

    def init(self, seed):
        """Re-initialises the weights as bp_net_init(seed) does."""
        _lib.check(lib.bp_net_init(self._h, int(seed) & (2**64 - 1)))

    def standardize(self, mean, std):
        """The model's input standardisation (x − mean) / std, or None, None
        to remove it."""
        if mean is None and std is None:
            _lib.check(lib.bp_net_set_standardize(self._h, None, None))
            return
        m, s = _f32(mean, "mean", 1), _f32(std, "std", 1)
        if m.shape != (self.layers[0],) or s.shape != m.shape:
            raise ValueError(f"mean and std need {self.layers[0]} values each")
        _lib.check(lib.bp_net_set_standardize(self._h, m.ctypes.data_as(_lib.P_F32),
                                              s.ctypes.data_as(_lib.P_F32)))

    @property
    def classes(self):
        """The class names the model file keeps ("classes"), or None."""
        if not _lib.HAS_CLASSES or lib.bp_net_class(self._h, 0) is None:
            return None
        k = self.layers[-1]
        return [lib.bp_net_class(self._h, j).decode() for j in range(k)]

    @classes.setter
    def classes(self, names):
        if not _lib.HAS_CLASSES:
            raise NotImplementedError("this libbackprop has no class names (bp_net_set_classes)")
        if names is None:
            _lib.check(lib.bp_net_set_classes(self._h, 0, None))
            return
        enc = [str(n).encode() for n in names]
        _lib.check(lib.bp_net_set_classes(self._h, len(enc), (ctypes.c_char_p * len(enc))(*enc)))

    # ---- outputs ----------------------------------------------------------

    def predict(self, X, out=None, rows=False):
        """The outputs y [n, N(L)] (float32) of X [n, N(0)] in raw units, the
        model's standardisation applied: bp_predict, or with rows=True
        bp_predict_rows (each row computed alone: its outputs the same bits
        whatever else X holds). A float32 C-contiguous X is read in place;
        any other is converted once."""
        x = _f32(X)
        n = x.shape[0]
        if x.shape[1] != self._n_in:
            raise ValueError(f"X has {x.shape[1]} features, the network {self._n_in} inputs")
        if out is None:
            y = np.empty((n, self._k), dtype=np.float32)
        elif (not isinstance(out, np.ndarray) or out.dtype != np.float32 or
              out.shape != (n, self._k) or not out.flags.c_contiguous or
              not out.flags.writeable):
            raise ValueError(f"out must be a writeable float32 C-contiguous array of shape "
                             f"({n}, {self._k})")
        else:
            y = out
        s = (lib.bp_predict_rows if rows else lib.bp_predict)(self._h, x.ctypes.data, n,
                                                            y.ctypes.data, None)
        if s != _lib.OK:
            raise _lib.error(s)
        return y

    # ---- training -------------------------------------------------------

    def _stop_hooks(self):
        """byref of a bp_epoch_hooks that carries only the stop flag, made
        once per flag (an epoch of one small batch is some tens of µs, and
        the struct costs 2 µs to build)."""
        made = self.__dict__.get("_hooks")
        if made is None or made[0] is not self._stop:
            hooks = _lib.EpochHooks(ctypes.sizeof(_lib.EpochHooks), 0, 1, _lib._HOOK(),
                                    _lib._HOOK(), None, ctypes.pointer(self._stop))
            made = self._hooks = (self._stop, hooks, byref(hooks))
        return made[2]

    def train_epoch(self, optimizer, data, idx, batch):
        """One bp_train_epoch pass over data's examples idx (int32 [n]) in
        batches of batch; returns (mean loss, examples done). Ctrl-C stops it
        after the step in flight and raises KeyboardInterrupt."""
        return _lib.interruptible(Epochs(self, optimizer, data, idx, batch), self._stop)

    def fit(self, X, y, epochs=10, batch=32, optimizer="sgd", lr=0.1, val_fraction=0.0,
            seed=1, **opt_fields):
        """Trains as `backprop train` does: a validation split of
        val_fraction seeded by seed (bp_split), then per epoch a shuffle of
        the rest and one bp_train_epoch pass. y: class labels [n] for
        softmax_ce, or targets [n, N(L)]. More optimiser settings by their
        bp_opt_config names (momentum, beta1, beta2, eps, weight_decay,
        clip_norm, l2, ...). Returns {"train_loss": [...], "val_loss": [...]}
        (val_loss None without a split)."""
        labels = self.loss == "softmax_ce" and np.ndim(y) == 1
        data = Dataset(X, y, self.layers[-1], labels)
        opt = Optimizer(self, optimizer, lr=lr, **opt_fields)
        perm = np.empty(data.n, dtype=np.int32)
        n_val, rng = c_int(0), _lib.Rng()
        _lib.check(lib.bp_split(int(seed), data.n, float(val_fraction),
                                perm.ctypes.data_as(_lib.P_I32), byref(n_val), byref(rng)))
        val, train = perm[:n_val.value], perm[n_val.value:]
        if len(train) < 1:
            raise ValueError(f"no training examples left of {data.n} after val_fraction "
                             f"{val_fraction}")
        history = {"train_loss": [], "val_loss": [] if len(val) else None}

        def epochs_():
            one = Epochs(self, opt, data, train, min(int(batch), self.max_batch), rng)
            for _ in range(int(epochs)):
                loss, _ = one()
                history["train_loss"].append(loss)
                if len(val):
                    history["val_loss"].append(self.evaluate(data, val)["loss"])
            return history

        return _lib.interruptible(epochs_, self._stop)  # one worker for the run

    def evaluate(self, data, idx=None):
        """bp_evaluate on a Dataset's examples idx (all by default):
        {"loss", "accuracy"} (accuracy NaN without classes)."""
        idx = np.arange(data.n, dtype=np.int32) if idx is None else np.ascontiguousarray(
            idx, dtype=np.int32)
        m = _lib.Metrics()
        _lib.check(lib.bp_evaluate(self._h, data.handle, idx.ctypes.data_as(_lib.P_I32),
                                   len(idx), byref(m), None))
        return {"loss": m.loss, "accuracy": m.accuracy}

    # ---- files ----------------------------------------------------------

    def save(self, path):
        """The model file (safetensors, SPEC's layout), written atomically;
        `backprop predict`, `eval` and `explain` read it. A path ending in
        .onnx writes the ONNX graph instead (bp_model_export_onnx;
        docs/formats.md)."""
        err = _lib.Error()
        path = os.fsencode(path)
        save = lib.bp_model_export_onnx if path.lower().endswith(b".onnx") else lib.bp_model_save
        _lib.check(save(self._h, path, byref(err)), err)


class Epochs:
    """bp_train_epoch passes over the same examples, each call one pass:
    Epochs(net, optimizer, data, idx, batch, rng)() shuffles idx in place
    with rng (a _lib.Rng; None: no shuffle, bp_shuffle otherwise) and runs
    the pass, returning (mean loss, examples done). The calls' arguments are
    made once, here: an epoch of a small data set is some tens of µs, and
    making them costs several (a numpy array's .ctypes alone is over 1 µs).
    Called on the thread it runs on (see _lib.interruptible): the status's
    message is that thread's."""

    def __init__(self, net, optimizer, data, idx, batch, rng=None):
        self._idx = idx = np.ascontiguousarray(idx, dtype=np.int32)  # kept: the pointer's
        self._keep = (net, optimizer, data, rng)  # the handles' owners outlive the calls
        self._total, self._done = c_double(0), c_int(0)
        p, n = idx.ctypes.data_as(_lib.P_I32), int(idx.shape[0])
        self._shuffle = (byref(rng), p, n) if rng is not None else None
        self._pass = (net._h, optimizer.handle, data.handle, p, n, int(batch),
                      net._stop_hooks(), byref(self._total), byref(self._done))

    def __call__(self):
        if self._shuffle is not None:
            _lib.check(lib.bp_shuffle(*self._shuffle))
        s = lib.bp_train_epoch(*self._pass)
        if s == _lib.STOPPED:
            raise KeyboardInterrupt
        if s != _lib.OK:
            raise _lib.error(s)
        done = self._done.value
        return (self._total.value / done if done else float("nan")), done


def load(path, max_batch=256, threads=1):
    """A network from a model file (bp_model_load)."""
    h, err = _lib.NET(), _lib.Error()
    _lib.check(lib.bp_model_load(os.fsencode(path), int(max_batch), byref(h), byref(err)), err)
    return Network(None, _handle=h.value, threads=threads, device=None)


class Optimizer:
    """A bp_optimizer for a network: kind (sgd, momentum, nesterov, adam,
    adamw), and bp_opt_config's fields by name; the schedule by name."""

    def __init__(self, net, kind="sgd", schedule="constant", **fields):
        cfg = _lib.opt_config(kind=_name(_lib.OPTS, kind, "optimizer"),
                              schedule=_name(_lib.SCHEDULES, schedule, "schedule"),
                              **{k: float(v) if k not in ("warmup_steps", "total_steps",
                                                          "step_size") else int(v)
                                 for k, v in fields.items()})
        err = _lib.Error()
        self.handle = lib.bp_optimizer_create(byref(cfg), lib.bp_net_n_params(net._h),
                                              byref(err))
        if not self.handle:
            raise _lib.ArgumentError(err.msg.decode(errors="replace"), _lib.ERR_ARG)
        self.config = cfg

    def __del__(self):
        if getattr(self, "handle", None):
            lib.bp_optimizer_free(self.handle)
            self.handle = None

    @property
    def lr(self):
        return lib.bp_optimizer_lr(self.handle)

    @property
    def steps(self):
        return lib.bp_optimizer_steps(self.handle)

    def plateau(self):
        """bp_optimizer_plateau: True when training should stop."""
        stop = c_int(0)
        _lib.check(lib.bp_optimizer_plateau(self.handle, byref(stop)))
        return bool(stop.value)


def checkpoint_bytes(net, opt):
    """The network's parameters and the optimiser's state as the bytes of a
    checkpoint file (bp_checkpoint_save): exact, for pickling."""
    with tempfile.TemporaryDirectory(prefix="backprop-") as d:
        path = os.path.join(d, "state.bin")
        err = _lib.Error()
        _lib.check(lib.bp_checkpoint_save(os.fsencode(path), net._h, opt.handle, None, 0,
                                          byref(err)), err)
        with open(path, "rb") as f:
            return f.read()


def checkpoint_restore(net, opt, data):
    """The inverse of checkpoint_bytes, into a network and an optimiser of
    the same configurations."""
    with tempfile.TemporaryDirectory(prefix="backprop-") as d:
        path = os.path.join(d, "state.bin")
        with open(path, "wb") as f:
            f.write(data)
        err = _lib.Error()
        _lib.check(lib.bp_checkpoint_load(os.fsencode(path), net._h, opt.handle, None, 0,
                                          byref(err)), err)


def _name(names, name, what):
    try:
        return names.index(name)
    except ValueError:
        raise ValueError(f"unknown {what} {name!r} (one of {', '.join(names)})") from None


__all__ = ["Network", "Optimizer", "Dataset", "Epochs", "load"]
