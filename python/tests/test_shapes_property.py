"""Random shapes and dtypes thrown at fit and predict: each call either
works or raises an exception; the interpreter never goes down (a crash in
the library would end this process, and the test with it)."""
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from backprop.sklearn import MLPClassifier, MLPRegressor

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_,
          np.complex64, object]
VALUES = st.sampled_from([0.0, 1.0, -3.5, 1e30, -1e38, np.nan, np.inf, 7.0])


@st.composite
def arrays(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    n = int(np.prod(shape)) if shape else 1
    vals = draw(st.lists(VALUES, min_size=n, max_size=n))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = np.array(vals, dtype=np.float64).astype(dtype).reshape(shape)
    return a


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(X=arrays(), y=arrays(), kind=st.sampled_from([MLPClassifier, MLPRegressor]),
       Xp=arrays())
def test_no_input_crashes(X, y, kind, Xp):
    est = kind(hidden_layer_sizes=(3,), max_iter=2)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y)
        except (ValueError, TypeError):
            return
        try:
            est.predict(Xp)
        except (ValueError, TypeError):
            pass
