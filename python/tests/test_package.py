"""The package against independent values: scikit-learn's own MLP for the
exceptions bad input raises, numpy's products for the parameters read
back, the CLI for files, PyTorch for the documented layout."""
import ctypes
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import scipy.sparse
from sklearn.datasets import load_iris, make_regression
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor

import backprop
from backprop import _lib
from backprop.sklearn import MLPClassifier, MLPRegressor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CLI = os.environ.get("BACKPROP_CLI", os.path.join(ROOT, "build", "backprop"))


def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


# ---- the binding's structs are the library's ---------------------------------

def test_struct_layout_read_back():
    """Each field set from Python is the one the library reads: a wrong
    size is refused by the library, a wrong offset would read another."""
    net = backprop.Network([3, 5, 2], activation="leaky_relu", loss="softmax_ce",
                           temperature=2.5, leaky_slope=0.2)
    assert net.temperature == 2.5 and net.leaky_slope == pytest.approx(0.2)
    assert net.activations == ["leaky_relu", "softmax"] and net.layers == [3, 5, 2]
    opt = backprop.Optimizer(net, "sgd", schedule="invscaling", lr=0.3, power_t=0.75)
    assert opt.lr == pytest.approx(0.3)
    data = backprop.Dataset(np.zeros((4, 3)), np.array([0, 1, 0, 1]), 2, labels=True)
    net.train_epoch(opt, data, np.arange(4), 2)
    assert opt.lr == pytest.approx(0.3 / 5 ** 0.75)  # 4 examples seen: α / (4 + 1)^p
    bad = _lib.opt_config()
    bad.size = 8
    err = _lib.Error()
    assert not _lib.lib.bp_optimizer_create(ctypes.byref(bad), 10, ctypes.byref(err))
    assert b"sizeof(bp_opt_config)" in err.msg


def test_library_errors_are_exceptions():
    with pytest.raises(ValueError, match="activation"):
        backprop.Network([3, 4, 2], activation="nope")
    with pytest.raises(backprop.ArgumentError, match="learning rate"):
        backprop.Optimizer(backprop.Network([2, 1]), "sgd", lr=-1)
    with pytest.raises(OSError, match="nonexistent"):
        backprop.load("/nonexistent/m.safetensors")
    with pytest.raises(ValueError, match="features"):
        backprop.Network([3, 2]).predict(np.zeros((2, 4)))


# ---- bad input raises what scikit-learn raises ---------------------------------

BAD = {
    "nan in X": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y),
    "inf in X": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y),
    "3-D X": lambda X, y: (X.reshape(X.shape[0], 2, -1), y),
    "empty X": lambda X, y: (X[:0], y[:0]),
    "y too short": lambda X, y: (X, y[:-1]),
    "1-D X": lambda X, y: (X[:, 0], y),
    "complex X": lambda X, y: (X + 1j, y),
    "strings in X": lambda X, y: (X.astype(str).astype(object) + "x", y),
}


def raised(make, fit_or_predict, X, y):
    est = make(max_iter=5)
    try:
        with np.errstate(all="ignore"):
            if fit_or_predict == "fit":
                est.fit(X, y)
            else:
                est.fit(*iris())
                est.predict(X)
    except Exception as e:  # noqa: BLE001
        return type(e)
    return None


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("where", ["fit", "predict"])
def test_bad_input_as_sklearn(case, where):
    X, y = BAD[case](*iris())
    for ours, theirs in [(MLPClassifier, SkClassifier), (MLPRegressor, SkRegressor)]:
        want = raised(theirs, where, X, y)
        got = raised(ours, where, X, y)
        assert got is want, f"{ours.__name__} {where} with {case}: {got}, sklearn {want}"


def test_wrong_width_at_predict():
    est = MLPClassifier(max_iter=5).fit(*iris())
    sk = SkClassifier(max_iter=5).fit(*iris())
    for X in (np.zeros((3, 5)), np.zeros((3, 5), dtype=np.float32)):
        with pytest.raises(ValueError) as ours:
            est.predict_proba(X)
        with pytest.raises(ValueError) as theirs:
            sk.predict_proba(X)
        assert str(ours.value) == str(theirs.value)


def test_nonfinite_at_predict_as_sklearn():
    """The short path (a float ndarray of the fitted width) leaves the
    finiteness test to the library, then raises scikit-learn's own error."""
    est = MLPClassifier(max_iter=5).fit(*iris())
    sk = SkClassifier(max_iter=5).fit(*iris())
    for bad in (np.nan, np.inf, -np.inf):
        for dtype in (np.float32, np.float64):
            X = iris()[0][:4].astype(dtype)
            X[2, 1] = bad
            with pytest.raises(ValueError) as ours:
                est.predict_proba(X)
            with pytest.raises(ValueError) as theirs:
                sk.predict_proba(X)
            assert str(ours.value) == str(theirs.value)
    X = iris()[0][:2].copy()
    X[1, 3] = 1e300  # finite as float64, inf as float32: said so, never NaN outputs
    with pytest.raises(ValueError, match=r"x\[1\]\[3\] = inf.*float32"):
        est.predict(X)
    with pytest.raises(backprop.NonFiniteError, match=r"bp_predict: x\[0\]\[2\] = nan"):
        est._net.predict(np.where(np.arange(8).reshape(2, 4) == 2, np.nan, 1.0))


def test_binary_proba_by_numpy():
    """A binary target's predict_proba is [1 − p, p] with p the logistic of
    the output, as numpy computes it from coefs_, for one row and many, in
    the input's float type."""
    X, y = iris()
    y = (y == 2).astype(int)
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0).fit(X, y)
    p = 1 / (1 + np.exp(-numpy_forward(est, X)))
    for dtype, tol in ((np.float64, 1e-6), (np.float32, 1e-6)):
        Xd = np.ascontiguousarray(X, dtype=dtype)
        for rows in (slice(0, 1), slice(None)):
            got = est.predict_proba(Xd[rows])
            assert got.dtype == dtype and got.shape == (len(X[rows]), 2)
            np.testing.assert_allclose(got[:, 1], p[rows, 0], rtol=tol, atol=tol)
            np.testing.assert_allclose(got[:, 0], 1 - p[rows, 0], rtol=tol, atol=tol)
            assert np.array_equal(est.predict(Xd[rows]), (got[:, 1] > 0.5).astype(int))


def test_sparse_X_as_dense():
    X, y = iris()
    dense = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    sparse = MLPClassifier(max_iter=20, random_state=0).fit(scipy.sparse.csr_matrix(X), y)
    assert np.array_equal(dense.predict_proba(X), sparse.predict_proba(scipy.sparse.csc_matrix(X)))


# ---- parameters read back are current --------------------------------------

def numpy_forward(est, X):
    """The network's outputs by numpy from coefs_ and intercepts_."""
    a = X.astype(np.float64)
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
           "logistic": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        a = a @ W + b
        if i < len(est.coefs_) - 1:
            a = act[est.activation](a)
    return a


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_coefs_are_current(solver):
    """batch_size=1 with plain SGD is where the library defers W(0)'s step
    to the next pass: coefs_ must show it done."""
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    y = y / y.std()
    est = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", solver=solver, batch_size=1,
                       momentum=0, alpha=0, learning_rate_init=0.01, max_iter=3,
                       random_state=0).fit(X, y)
    W = est.coefs_
    assert [w.shape for w in W] == [(3, 6), (6, 1)]
    np.testing.assert_allclose(est.predict(X), numpy_forward(est, X).ravel(), rtol=1e-5,
                               atol=1e-5)


# ---- pickling --------------------------------------------------------------

def test_pickle_round_trip_exact():
    X, y = iris()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=1).fit(X, y)
    back = pickle.loads(pickle.dumps(est))
    assert np.array_equal(est.predict_proba(X), back.predict_proba(X))
    assert back.loss_curve_ == est.loss_curve_ and back.n_iter_ == est.n_iter_
    # the optimiser's state came along: the next passes are the same
    est.partial_fit(X, y)
    back.partial_fit(X, y)
    assert np.array_equal(est.predict_proba(X), back.predict_proba(X))


# ---- files: the CLI, PyTorch -----------------------------------------------------

needs_cli = pytest.mark.skipif(not os.path.exists(CLI), reason="no CLI at " + CLI)


def write_csv(path, X, y=None):
    rows = X if y is None else np.column_stack([X, y])
    np.savetxt(path, rows, delimiter=",", fmt="%.9g")


@needs_cli
def test_cli_model_in_python(tmp_path):
    X, y = iris()
    write_csv(tmp_path / "train.csv", X, y)
    write_csv(tmp_path / "x.csv", X)
    subprocess.run([CLI, "train", "--data", str(tmp_path / "train.csv"), "--layers", "4,8,3",
                    "--act", "tanh", "--loss", "softmax_ce", "--epochs", "5", "--val", "0",
                    "--out", str(tmp_path / "m.safetensors")], check=True, capture_output=True)
    printed = subprocess.run([CLI, "predict", "--model", str(tmp_path / "m.safetensors"),
                              "--input", str(tmp_path / "x.csv")], check=True,
                             capture_output=True, text=True).stdout
    cli = np.loadtxt(printed.splitlines(), delimiter=",")
    est = MLPClassifier.from_file(tmp_path / "m.safetensors")
    np.testing.assert_allclose(est.predict_proba(X.astype(np.float32)), cli, rtol=1e-6,
                               atol=1e-7)
    assert list(est.predict(X)) == list(np.argmax(cli, axis=1))


@needs_cli
def test_python_model_in_cli_and_torch(tmp_path):
    X, y = iris()
    est = MLPClassifier(hidden_layer_sizes=(8, 5), activation="tanh", max_iter=50,
                        random_state=0).fit(X, y)
    est.save(tmp_path / "m.safetensors")
    write_csv(tmp_path / "test.csv", X, y)
    out = subprocess.run([CLI, "eval", "--model", str(tmp_path / "m.safetensors"), "--data",
                          str(tmp_path / "test.csv"), "--json"], check=True,
                         capture_output=True, text=True).stdout
    import json
    assert json.loads(out)["accuracy"] == pytest.approx(est.score(X, y), abs=1e-9)
    torch = pytest.importorskip("torch")
    from safetensors_reader import read_safetensors
    tensors = read_safetensors(tmp_path / "m.safetensors")
    layers = []
    for l in range(3):
        W, b = tensors[f"layers.{l}.weight"], tensors[f"layers.{l}.bias"]
        lin = torch.nn.Linear(W.shape[1], W.shape[0]).double()
        lin.weight.data = torch.tensor(W, dtype=torch.float64)
        lin.bias.data = torch.tensor(b, dtype=torch.float64)
        layers += [lin, torch.nn.Tanh()] if l < 2 else [lin, torch.nn.Softmax(dim=1)]
    seq = torch.nn.Sequential(*layers)
    p = seq(torch.tensor(X, dtype=torch.float64)).detach().numpy()
    np.testing.assert_allclose(est.predict_proba(X), p, rtol=1e-5, atol=1e-6)


# ---- threads and Ctrl-C ------------------------------------------------------------

def long_fit_args():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 50))
    return X, (X[:, 0] > 0).astype(int)


def test_fit_leaves_other_threads_running():
    X, y = long_fit_args()
    est = MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=3, n_threads=1, tol=0,
                        random_state=0)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (est.fit(X, y), done.set()))
    ticks = 0
    worker.start()
    t0 = time.monotonic()
    while not done.is_set() and time.monotonic() - t0 < 60:
        ticks += 1  # pure Python: runs only while fit has let go of the GIL
        time.sleep(0)
    worker.join()
    assert ticks > 1000, f"the main thread ran {ticks} times during fit"


def test_ctrl_c_stops_fit(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time, numpy as np
        sys.path.insert(0, {os.path.join(ROOT, 'python')!r})
        from backprop.sklearn import MLPClassifier
        rng = np.random.default_rng(0)
        X = rng.normal(size=(20000, 50)); y = (X[:, 0] > 0).astype(int)
        est = MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=1000, tol=0,
                            n_iter_no_change=1000, random_state=0)
        print("fitting", flush=True)
        try:
            est.fit(X, y)
            print("finished")
        except KeyboardInterrupt:
            t = time.monotonic()
            print("interrupted", est.predict(X[:5]).tolist(), flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "fitting"
    time.sleep(2)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    line = p.stdout.readline()
    waited = time.monotonic() - t0
    p.wait(timeout=30)
    assert line.startswith("interrupted"), line
    assert waited < 1.5, f"KeyboardInterrupt after {waited:.2f} s"
    assert p.returncode == 0


@pytest.mark.parametrize("library, says", [("/nonexistent/libbackprop.so", "cannot load"),
                                           (os.devnull, "cannot load")])
def test_missing_library_is_one_import_error(library, says):
    r = subprocess.run([sys.executable, "-c", "import backprop"], capture_output=True, text=True,
                       env=dict(os.environ, BACKPROP_LIBRARY=library,
                                PYTHONPATH=os.path.join(ROOT, "python")))
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: backprop:") and says in last, r.stderr


def test_save_onnx(tmp_path):
    """save('.onnx') writes the graph: onnx's own checker passes and its
    Gemm weights are the estimator's coefs_, transposed as ONNX's transB."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    X, y = iris()
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, random_state=0).fit(X, y)
    est.save(tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    assert len(gemms) == 2
    for W, g in zip(est.coefs_, gemms):
        assert np.array_equal(inits[g.input[1]], W.T)
    with pytest.raises(OSError):
        est.save(tmp_path / "no" / "such" / "m.onnx")
