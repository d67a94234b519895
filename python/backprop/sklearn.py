"""MLPClassifier and MLPRegressor: scikit-learn's multi-layer perceptrons,
with the same parameters, defaults, attributes and methods, trained by
libbackprop. Changing the import is all a user does:

    from backprop.sklearn import MLPClassifier   # was sklearn.neural_network

What is the library's and what is scikit-learn's:
  - the maths (passes, the loss, the L2 penalty `alpha`, the optimisers and
    the invscaling/adaptive rates, the stratified early-stopping split) is
    libbackprop's (bp_opt_config.l2, BP_SCHED_INVSCALING/ADAPTIVE,
    bp_optimizer_plateau, bp_split_classes);
  - input validation, label encoding and the scores are scikit-learn's own
    (_validate_data, LabelBinarizer, accuracy_score, r2_score), so bad input
    raises what scikit-learn raises;
  - the epoch loop (n_iter_no_change, tol, early stopping's bookkeeping)
    follows scikit-learn's _fit_stochastic line for line.

Known differences, all documented in the README's Python section:
  - initialisation: scikit-learn's rule (bp_net_init_uniform), from the
    library's generator, so other numbers than scikit-learn's for a seed;
  - momentum is PyTorch's form v ← μv + g, θ ← θ − αv: the same steps as
    scikit-learn's while the rate is constant, not across a change of rate;
  - Adam's ε is added to √v̂ (PyTorch's), not to √v (scikit-learn's);
  - with several regression targets, loss_ is ½ Σ over the targets per
    example (the library's mse, eq. 6), which is n_outputs_ times
    scikit-learn's data term; the gradients are the same;
  - solver='lbfgs' is refused;
  - Ctrl-C raises KeyboardInterrupt after the step in flight (scikit-learn
    swallows it with a warning); the fitted attributes describe the epochs
    completed, the parameters the last step taken.
"""
import numbers
import warnings

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from . import _lib
from .network import Dataset, Epochs, Network, Optimizer, checkpoint_bytes, checkpoint_restore

_ACT = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_ONE_ZERO = np.array([1, 0], dtype=np.float32)  # float64 p makes float64 columns


class _BaseMLP(BaseEstimator):
    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"),
                             Options(numbers.Real, {np.inf})],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_threads": [None, Interval(numbers.Integral, None, None, closed="neither")],
        "device": [StrOptions({"cpu", "cuda"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 n_threads=None, device="cpu"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.n_threads = n_threads
        self.device = device

    # ---- the parameters, always current ------------------------------------

    def _fitted_net(self):
        net = self.__dict__.get("_net")
        if net is None:
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet")
        return net

    @property
    def coefs_(self):
        """The weights per layer as scikit-learn lays them out, [n_in, n_out]:
        copies, read through the library when asked for (always current)."""
        net = self._fitted_net()
        return [net.weight(l).T.copy() for l in range(len(net.layers) - 1)]

    @coefs_.setter
    def coefs_(self, coefs):
        net = self._fitted_net()
        for l, c in enumerate(coefs):
            net.weight(l)[...] = np.asarray(c, dtype=np.float32).T

    @property
    def intercepts_(self):
        """The biases per layer: copies, always current."""
        net = self._fitted_net()
        return [net.bias(l).copy() for l in range(len(net.layers) - 1)]

    @intercepts_.setter
    def intercepts_(self, intercepts):
        net = self._fitted_net()
        for l, b in enumerate(intercepts):
            net.bias(l)[...] = np.asarray(b, dtype=np.float32)

    # ---- training ------------------------------------------------------------

    def _seed(self):
        """The library's seed from random_state, as scikit-learn's
        check_random_state would give numbers."""
        rs = check_random_state(self.random_state)
        return int(rs.randint(np.iinfo(np.int32).max))

    def _build(self, layer_units, seed, max_batch):
        loss, out = self._loss_and_output()
        net = Network(layer_units, activation=_ACT[self.activation], loss=loss, output=out,
                      max_batch=max_batch, threads=self.n_threads if self.n_threads is not None else 0,
                      seed=seed)
        # scikit-learn's initialisation: Glorot's uniform bound, biases drawn too
        _lib.check(lib_call("bp_net_init_uniform", net._h, seed,
                            2.0 if self.activation == "logistic" else 6.0))
        if self.device != "cpu":
            net.device = self.device
        return net

    def _make_optimizer(self, net):
        if self.solver == "adam":
            fields = dict(kind="adam", beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)
        else:
            kind = ("sgd" if self.momentum == 0 else
                    "nesterov" if self.nesterovs_momentum else "momentum")
            fields = dict(kind=kind, momentum=self.momentum, schedule=self.learning_rate,
                          power_t=self.power_t)
        return Optimizer(net, lr=self.learning_rate_init, l2=self.alpha, **fields)

    def _fit(self, X, y, incremental=False):
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' is not in backprop (its solvers are 'sgd' and "
                             "'adam'): use sklearn.neural_network for L-BFGS")
        hidden = self.hidden_layer_sizes
        if not hasattr(hidden, "__iter__"):
            hidden = [hidden]
        hidden = list(hidden)
        if np.any(np.array(hidden) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden)
        first_pass = self.__dict__.get("_net") is None or (not self.warm_start and
                                                           not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if scipy.sparse.issparse(X):
            X = X.toarray()
        n_samples, n_features = X.shape
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden + [self.n_outputs_]
        seed = self._seed()
        if first_pass:
            # room for the largest batch this data can make, and for predict's chunks
            bs = min(200, n_samples) if self.batch_size == "auto" else self.batch_size
            self._initialize(layer_units, seed, max(min(bs, n_samples), 256))
        elif self._net.layers != layer_units:
            raise ValueError(f"warm_start: the network is {self._net.layers}, this data and "
                             f"hidden_layer_sizes make {layer_units}")
        # on a worker thread when called from the main one: Ctrl-C stops it
        _lib.interruptible(lambda: self._fit_stochastic(X, y, incremental, seed),
                           self._net._stop)
        if not np.isfinite(self._net.params).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data may"
                             " contain large values and need to be preprocessed.")
        return self

    def _initialize(self, layer_units, seed, max_batch):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._out_activation()
        self._net = self._build(layer_units, seed, max_batch)
        self._opt = None
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _fit_stochastic(self, X, y, incremental, seed):
        net = self._net
        if not incremental or self._opt is None:
            self._opt = self._make_optimizer(net)
        early_stopping = self.early_stopping and not incremental
        n_all = X.shape[0]
        data = self._dataset(X, y)
        perm = np.arange(n_all, dtype=np.int32)
        rng = _lib.Rng()
        if early_stopping:
            # as train_test_split(test_size=validation_fraction): ceil, and the
            # same refusals
            n_val = int(np.ceil(self.validation_fraction * n_all))
            if n_val < 1 or n_val >= n_all:
                raise ValueError(
                    f"With n_samples={n_all}, test_size={self.validation_fraction} and "
                    "train_size=None, the resulting train set will be empty. Adjust any of "
                    "the aforementioned parameters.")
            stratify = is_classifier(self) and self.n_outputs_ == 1
            if stratify:
                codes = self._class_codes(y)
                counts = np.bincount(codes)
                if counts[counts > 0].min() < 2:
                    raise ValueError("The least populated class in y has only 1 member, which "
                                     "is too few. The minimum number of groups for any class "
                                     "cannot be less than 2.")
                k = len(counts)
                if n_val < k or n_all - n_val < k:
                    raise ValueError(f"The test_size = {n_val} should be greater or equal to "
                                     f"the number of classes = {k}")
                _lib.check(lib_call("bp_split_classes", seed, codes.ctypes.data_as(_lib.P_I32),
                                    n_all, k, n_val, perm.ctypes.data_as(_lib.P_I32),
                                    _lib.ctypes.byref(rng)))
            else:
                got = _lib.ctypes.c_int(0)
                _lib.check(lib_call("bp_split", seed, n_all, n_val / n_all,
                                    perm.ctypes.data_as(_lib.P_I32), _lib.ctypes.byref(got),
                                    _lib.ctypes.byref(rng)))
                n_val = got.value
            val_idx, train_idx = perm[:n_val], perm[n_val:].copy()
            X_val, y_val = X[val_idx], self._decode(y[val_idx])
        else:
            lib_call("bp_rng_seed", _lib.ctypes.byref(rng), seed)
            train_idx, X_val, y_val = perm, None, None
        n_samples = len(train_idx)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        if net.max_batch < batch_size:
            self._resize(batch_size)
            net = self._net
        epoch = Epochs(net, self._opt, data, train_idx, batch_size,
                       rng if self.shuffle else None)
        try:
            for _ in range(self.max_iter):
                self.loss_, _ = epoch()
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                self._update_no_improvement_count(early_stopping, X_val, y_val)
                if self._no_improvement_count > self.n_iter_no_change:
                    if self._opt.plateau():
                        if self.verbose:
                            what = ("Validation score" if early_stopping else "Training loss")
                            print(f"{what} did not improve more than tol={self.tol:f} for "
                                  f"{self.n_iter_no_change} consecutive epochs. Stopping.")
                        break
                    self._no_improvement_count = 0
                    if self.verbose:
                        print("Setting learning rate to %f" % self._opt.lr)
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and "
                                  "the optimization hasn't converged yet." % self.max_iter,
                                  ConvergenceWarning)
        finally:
            if early_stopping and getattr(self, "_best_params", None) is not None:
                net.params[...] = self._best_params  # the best epoch's, as scikit-learn
                self._best_params = None

    def _resize(self, max_batch):
        """The same network with room for batches of max_batch (the library
        sizes its buffers once, at creation)."""
        old = self._net
        net = Network(old.layers, activation=old.activations[:-1], loss=old.loss,
                      output=old.activations[-1], max_batch=max_batch, threads=old.threads)
        if old.device != "cpu":
            net.device = old.device
        net.params[...] = old.params
        net._stop = old._stop  # the flag an interruptible fit is watching
        if self._opt is not None:  # the optimiser's state goes with the parameters
            state = checkpoint_bytes(old, self._opt)
            self._opt = self._make_optimizer(net)
            checkpoint_restore(net, self._opt, state)
        self._net = net

    def _update_no_improvement_count(self, early_stopping, X_val, y_val):
        if early_stopping:
            self.validation_scores_.append(self._score(X_val, y_val))
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_params = self._net.params.copy()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def fit(self, X, y):
        """Fit the model to data matrix X and target(s) y (as scikit-learn's)."""
        self._validate_params()
        return self._fit(X, y, incremental=False)

    # ---- outputs --------------------------------------------------------------

    def _forward(self, X, check_input=True):
        """The network's outputs for X, in X's float type (scikit-learn's
        convention). A float ndarray of the fitted width takes a short path
        to the library, which refuses a non-finite value: that X then goes
        through scikit-learn's validation, and so raises what it raises, as
        does any other X."""
        net = self.__dict__.get("_net")
        if net is None:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit' with appropriate arguments before using this estimator.")
        short = (check_input and type(X) is np.ndarray and X.ndim == 2 and
                 (X.dtype is _F32 or X.dtype is _F64) and X.shape[0] > 0 and
                 X.shape[1] == self.n_features_in_ and "feature_names_in_" not in self.__dict__)
        if check_input and not short:
            X = self._validate_data(X, accept_sparse=["csr", "csc"], reset=False)
        if scipy.sparse.issparse(X):
            X = X.toarray()
        try:
            # each row alone: a row's prediction does not depend on the others
            y = net.predict(X, rows=True)
        except _lib.NonFiniteError as e:
            if short:  # NaN or inf: scikit-learn's own ValueError
                self._validate_data(X, accept_sparse=["csr", "csc"], reset=False)
            # finite as given, not as float32 (|x| > 3.4e38), the network's type
            raise ValueError(f"{e}: X as float32, the type the network computes in") from None
        return y if X.dtype is _F32 else y.astype(np.float64)

    # ---- extras of ours ----------------------------------------------------

    def save(self, path):
        """The model file (safetensors) that `backprop predict`, `eval` and
        `explain` read, or with a path ending in .onnx the ONNX graph; a
        classifier's classes_ go into its "classes" metadata where the
        library has it."""
        net = self._fitted_net()
        if is_classifier(self) and _lib.HAS_CLASSES and self._class_names() is not None:
            net.classes = self._class_names()
        net.save(path)

    @classmethod
    def from_file(cls, path, **params):
        """An estimator predicting with a model file's network (one that
        `backprop train` or save wrote). The file's last layer decides the
        outputs; a classifier takes its classes from the file's "classes",
        else 0..k−1."""
        from .network import load
        est = cls(**params)
        net = load(path, max_batch=256, threads=est.n_threads if est.n_threads is not None else 0)
        sizes = net.layers
        est._net, est._opt = net, None
        est.n_features_in_ = sizes[0]
        est.n_layers_ = len(sizes)
        est.n_iter_, est.t_ = 0, 0
        est.loss_curve_ = []
        est._from_file(net)
        return est

    # ---- pickling: exact, through a checkpoint's bytes ------------------------

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__
        state = dict(state)
        net, opt = state.pop("_net", None), state.pop("_opt", None)
        state.pop("_best_params", None)
        if net is not None:
            state["_net_spec"] = (net.layers, net.activations, net.loss, net.max_batch,
                                  net.threads)
            if opt is None:
                opt = self._make_optimizer(net)
                state["_opt_fresh"] = True
            state["_state"] = checkpoint_bytes(net, opt)
        return state

    def __setstate__(self, state):
        state = dict(state)
        spec, data = state.pop("_net_spec", None), state.pop("_state", None)
        fresh = state.pop("_opt_fresh", False)
        super().__setstate__(state) if hasattr(super(), "__setstate__") else \
            self.__dict__.update(state)
        if spec is not None:
            layers, acts, loss, max_batch, threads = spec
            net = Network(layers, activation=acts[:-1], loss=loss, output=acts[-1],
                          max_batch=max_batch, threads=threads)
            opt = self._make_optimizer(net)
            checkpoint_restore(net, opt, data)
            if self.device != "cpu":
                net.device = self.device
            self._net, self._opt = net, None if fresh else opt



def lib_call(name, *args):
    return getattr(_lib.lib, name)(*args)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """scikit-learn's MLPClassifier on libbackprop: the same parameters,
    attributes and methods (see sklearn.neural_network.MLPClassifier), plus
    n_threads (None: one per core), device ('cpu' or 'cuda'), save(path)
    and from_file(path). Binary and multilabel targets train a logistic
    output with sigmoid_bce, multiclass ones a softmax with softmax_ce."""

    def _loss_and_output(self):
        return ("softmax_ce", "softmax") if self.out_activation_ == "softmax" else \
            ("sigmoid_bce", "sigmoid")

    def _out_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_data(X, y, accept_sparse=["csr", "csc"], multi_output=True,
                                   dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if "classes_" not in self.__dict__ or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def _class_codes(self, y):
        """Each example's class index from the binarised y [n, 1 or k]."""
        return (y[:, 0].astype(np.int32) if y.shape[1] == 1 else
                np.argmax(y, axis=1).astype(np.int32))

    def _dataset(self, X, y):
        if self.out_activation_ == "softmax":
            return Dataset(X, self._class_codes(y), y.shape[1], labels=True)
        return Dataset(X, y.astype(np.float32), y.shape[1], labels=False)

    def _decode(self, y):
        return self._label_binarizer.inverse_transform(y)

    def _class_names(self):
        """classes_ as the model file's names; None for 0..k−1, which the
        file's class indices already are (and for multilabel targets)."""
        if self.out_activation_ != "softmax":
            return None
        if np.issubdtype(np.asarray(self.classes_).dtype, np.integer) and list(
                self.classes_) == list(range(len(self.classes_))):
            return None
        return [str(c) for c in self.classes_]

    def _from_file(self, net):
        k = net.layers[-1]
        names = net.classes
        loss = net.loss
        if loss == "softmax_ce":
            self.out_activation_ = "softmax"
        elif loss == "sigmoid_bce":
            self.out_activation_ = "logistic"
        else:
            raise ValueError(f"a model with loss {loss} is not a classifier's: use MLPRegressor")
        if names is None:
            classes = np.arange(max(k, 2))
        elif all(n.lstrip("-").isdigit() for n in names):
            classes = np.array([int(n) for n in names])  # integer labels, saved as names
        else:
            classes = np.array(names)
        self._label_binarizer = LabelBinarizer().fit(classes)
        self.classes_ = self._label_binarizer.classes_
        self.n_outputs_ = k

    def _predict(self, X, check_input=True):
        y_pred = self._forward(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier."""
        return self._predict(X)

    def _score(self, X, y):
        return accuracy_score(y, self._predict(X, check_input=False))

    def partial_fit(self, X, y, classes=None):
        """One pass over X, y; classes is needed on the first call."""
        if self.solver not in ("sgd", "adam"):
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "%s is not stochastic." % self.solver)
        if self.__dict__.get("_net") is None:
            self._validate_params()
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, incremental=True)

    def predict_log_proba(self, X):
        """The log of predict_proba."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates, columns in the order of classes_."""
        y_pred = self._forward(X)
        if self.n_outputs_ != 1:
            return y_pred
        # [1 − p, p], scikit-learn's columns, as |[1, 0] − p| in one broadcast
        # (p >= 0, a sigmoid's): the same numbers in two numpy calls
        proba = np.subtract(_ONE_ZERO, y_pred)
        return np.abs(proba, out=proba)

    def _more_tags(self):
        return {"multilabel": True}


class MLPRegressor(RegressorMixin, _BaseMLP):
    """scikit-learn's MLPRegressor on libbackprop: an identity output and
    the squared error, the same parameters, attributes and methods, plus
    n_threads, device, save(path) and from_file(path)."""

    def _loss_and_output(self):
        return "mse", "identity"

    def _out_activation(self):
        return "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validate_data(X, y, accept_sparse=["csr", "csc"], multi_output=True,
                                   y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _dataset(self, X, y):
        return Dataset(X, y.astype(np.float32), y.shape[1], labels=False)

    def _decode(self, y):
        return y

    def _class_names(self):
        return None

    def _from_file(self, net):
        if net.loss != "mse":
            raise ValueError(f"a model with loss {net.loss} is a classifier's: use "
                             "MLPClassifier")
        self.out_activation_ = "identity"
        self.n_outputs_ = net.layers[-1]

    def predict(self, X):
        """Predict using the multi-layer perceptron model."""
        y_pred = self._forward(X)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y):
        y_pred = self._forward(X, check_input=False)
        if y_pred.shape[1] == 1:
            y_pred = y_pred.ravel()
        return r2_score(y, y_pred)

    def partial_fit(self, X, y):
        """One pass over X, y."""
        if self.solver not in ("sgd", "adam"):
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "%s is not stochastic." % self.solver)
        if self.__dict__.get("_net") is None:
            self._validate_params()
        return self._fit(X, y, incremental=True)


__all__ = ["MLPClassifier", "MLPRegressor"]
