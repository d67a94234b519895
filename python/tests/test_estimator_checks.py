"""scikit-learn's own contract for estimators, every check, on both.

The only skips allowed are those sklearn's own MLP gets here (pandas
missing; no decision_function): the test counts them against it."""
import warnings
from unittest import SkipTest

import pytest
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor
from sklearn.utils.estimator_checks import check_estimator

from backprop.sklearn import MLPClassifier, MLPRegressor


def outcomes(estimator):
    got = {}
    for est, check in check_estimator(estimator, generate_only=True):
        name = getattr(check, "func", check).__name__
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(est)
            got[name] = "pass"
        except SkipTest as e:
            got[name] = "skip: " + str(e)
        except Exception as e:  # noqa: BLE001 - reported below, check by check
            got[name] = f"FAIL: {type(e).__name__}: {e}"
    return got


@pytest.mark.parametrize("ours, theirs", [(MLPClassifier, SkClassifier),
                                          (MLPRegressor, SkRegressor)])
def test_check_estimator(ours, theirs):
    got, ref = outcomes(ours()), outcomes(theirs())
    failed = {k: v for k, v in got.items() if v.startswith("FAIL")}
    assert not failed, "\n".join(f"{k}: {v[:400]}" for k, v in failed.items())
    skipped = sorted(k for k, v in got.items() if v.startswith("skip"))
    ref_skipped = sorted(k for k, v in ref.items() if v.startswith("skip"))
    assert skipped == ref_skipped, f"skips {skipped}, sklearn's own MLP: {ref_skipped}"
    assert len(got) == len(ref), f"{len(got)} checks, sklearn's MLP has {len(ref)}"
