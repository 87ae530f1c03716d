"""A sampler shaped like smote-variants' (the package does not install here): its
``get_params`` reports a ``class_name`` its constructor does not take, so
scikit-learn's ``clone`` fails on it; it has ``fit_resample``. Used to test that
imbench runs such samplers as they are."""

from __future__ import annotations

import numpy as np


class ClassNameSMOTE:
    """Interpolates each minority row towards one of its ``n_neighbors`` nearest
    minority rows until the classes balance (``proportion`` of the gap)."""

    def __init__(self, proportion=1.0, n_neighbors=5, random_state=None):
        self.proportion = proportion
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def get_params(self, deep=False):
        return {
            "proportion": self.proportion,
            "n_neighbors": self.n_neighbors,
            "random_state": self.random_state,
            "class_name": type(self).__name__,
        }

    def fit_resample(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        minority = X[y == 1]
        need = int(self.proportion * ((y == 0).sum() - len(minority)))
        if need <= 0:
            return X, y
        if len(minority) <= self.n_neighbors:
            raise ValueError(f"needs more than {self.n_neighbors} minority rows")
        rng = np.random.default_rng(self.random_state)
        d = ((minority[:, None, :] - minority[None, :, :]) ** 2).sum(-1)
        near = np.argsort(d, axis=1)[:, 1 : self.n_neighbors + 1]
        base = rng.integers(0, len(minority), need)
        other = near[base, rng.integers(0, self.n_neighbors, need)]
        gap = rng.random((need, 1))
        new = minority[base] + gap * (minority[other] - minority[base])
        return np.vstack([X, new]), np.concatenate([y, np.ones(need, dtype=y.dtype)])
