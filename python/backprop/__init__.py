"""backprop: fully connected networks trained with backpropagation, from
Python, on libbackprop (the C library of the same project).

    import backprop
    net = backprop.Network([4, 16, 3], activation="tanh", loss="softmax_ce")
    net.fit(X, y, epochs=50, batch=16, optimizer="adam", lr=0.01)
    probabilities = net.predict(X)

backprop.sklearn holds MLPClassifier and MLPRegressor, drop-ins for
scikit-learn's. The library is found beside this package when installed,
in the source tree's build/ when run from there, or at $BACKPROP_LIBRARY.
"""
from ._lib import (VERSION as __version__, LIBRARY_PATH, BackpropError, ArgumentError,
                   ShapeError, FormatError, NonFiniteError)
from .network import Network, Optimizer, Dataset, Epochs, load

__all__ = ["Network", "Optimizer", "Dataset", "Epochs", "load", "BackpropError", "ArgumentError",
           "ShapeError", "FormatError", "NonFiniteError", "LIBRARY_PATH", "__version__"]
