"""Every use of a scikit-learn or imbalanced-learn internal, in one place.

The core (the strategies' pipelines) needs these, so they cannot live in
``imbench.compat``, which sits above the core with Prefect's and MLflow's
internals; this module imports nothing of imbench and nothing at import time.
``tests/test_compat.py`` checks each against the installed versions, and its
guard keeps private names out of every other module.

* **SMOTENC's sample generation** (``smotenc``): imbalanced-learn's
  ``SMOTENC._generate_samples`` gathers every new sample's k neighbours over every
  encoded column into one dense (samples x k x columns) array and edits the
  one-hot block in LIL format; ``LeanSMOTENC`` overrides it to give the same
  samples, bit for bit, one category block and a chunk of rows at a time. Where
  the method or the attributes it reads are not there, ``smotenc`` returns
  upstream's SMOTENC.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["smotenc"]

# --- SMOTENC's sample generation -------------------------------------------------------

# elements of one (rows x k x categories) slice of neighbour codes: 8 MB of float64
_SMOTENC_CHUNK = 1 << 20
_SMOTENC_READS = ("continuous_features_", "categorical_encoder_", "median_std_")


def smotenc(categorical_features: list[int], **params: Any) -> Any:
    """An unfitted SMOTENC: ``LeanSMOTENC`` where imbalanced-learn still has the
    method it overrides, else imbalanced-learn's own."""
    return _lean_smotenc()(categorical_features, **params)


def __getattr__(name: str) -> Any:
    # the class is made on first use, so importing this module does not import
    # imbalanced-learn; pickle finds it here by name (an exported pipeline holds one)
    if name == "LeanSMOTENC":
        return _lean_smotenc()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_LEAN: list[type] = []


def _lean_smotenc() -> type:
    if _LEAN:
        return _LEAN[0]
    import inspect
    import math

    import numpy as np
    from imblearn.over_sampling import SMOTENC
    from scipy import sparse
    from sklearn.utils import check_random_state

    method = getattr(SMOTENC, "_generate_samples", None)
    expected = ["self", "X", "nn_data", "nn_num", "rows", "cols", "steps", "y_type", "y"]
    if method is None or list(inspect.signature(method).parameters) != expected:
        warnings.warn(
            "imbalanced-learn's SMOTENC changed: using it as is (more memory on large data)",
            stacklevel=2,
        )
        _LEAN.append(SMOTENC)
        return SMOTENC

    class LeanSMOTENC(SMOTENC):
        """SMOTENC whose samples are upstream's, made in memory that grows with the
        new samples times the widest category, not times k and every column."""

        def _generate_samples(self, X, nn_data, nn_num, rows, cols, steps, y_type, y=None):
            if any(not hasattr(self, a) for a in _SMOTENC_READS):
                return super()._generate_samples(X, nn_data, nn_num, rows, cols, steps, y_type, y)
            # the same generator as upstream's, drawn in the same order
            rng = check_random_state(self.random_state)
            X_new = super(SMOTENC, self)._generate_samples(X, nn_data, nn_num, rows, cols, steps)
            n_cont = self.continuous_features_.size
            if math.isclose(self.median_std_[y_type], 0):  # upstream's stored encoding
                codes = self._X_categorical_minority_encoded
            else:  # read only, so no copy of dense codes
                codes = nn_data[:, n_cont:]
                codes = codes.toarray() if sparse.issparse(codes) else np.asarray(codes)
            neighbours = nn_num[rows]
            n = len(rows)
            picked_rows, picked_cols, start = [], [], 0
            for size in (c.size for c in self.categorical_encoder_.categories_):
                block = codes[:, start : start + size]
                is_max = np.empty((n, size), dtype=bool)
                step = max(1, _SMOTENC_CHUNK // (size * max(neighbours.shape[1], 1)))
                for a in range(0, n, step):
                    counts = block[neighbours[a : a + step]].sum(axis=1)
                    is_max[a : a + step] = np.isclose(counts, counts.max(axis=1, keepdims=True))
                # tie breaking: upstream's permutation of every (row, category) maximum
                max_idxs = rng.permutation(np.argwhere(is_max))
                xs, idx_sels = np.unique(max_idxs[:, 0], return_index=True)
                picked_rows.append(xs)
                picked_cols.append(start + max_idxs[idx_sels, 1])
                start += size
            r, c = np.concatenate(picked_rows), np.concatenate(picked_cols)
            one_hot = sparse.csr_matrix(
                (np.ones(len(r), dtype=X_new.dtype), (r, c)), shape=(n, start)
            )
            continuous = X_new[:, :n_cont]
            if not sparse.issparse(continuous):
                continuous = sparse.csr_matrix(continuous)
            return sparse.hstack((continuous, one_hot), format="csr", dtype=X_new.dtype)

    LeanSMOTENC.__qualname__ = LeanSMOTENC.__name__
    _LEAN.append(LeanSMOTENC)
    return LeanSMOTENC
