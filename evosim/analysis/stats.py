"""The statistics that compare conditions: tests, effect sizes, intervals, smoothing.

NaNs are dropped everywhere (a run without a value for a measure is not a zero); the callers
count them.  SciPy does the tests; Cliff's delta is written out because it is one line and
SciPy has none.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

__all__ = ["finite", "mann_whitney", "cliffs_delta", "bootstrap_ci", "mean_sd", "rolling_median"]


def finite(values) -> np.ndarray:
    """The finite values as a float array (None and NaN dropped)."""
    if not isinstance(values, np.ndarray):
        values = [math.nan if v is None else v for v in values]
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value of two samples (NaNs dropped; NaN if either is empty)."""
    a, b = finite(a), finite(b)
    if a.size == 0 or b.size == 0:
        return math.nan
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def cliffs_delta(a, b) -> float:
    """Cliff's delta, P(x > y) - P(x < y) for x from ``a`` and y from ``b`` (NaNs dropped):
    a rank effect size in [-1, 1] that goes with the Mann-Whitney test (delta = 2 U_a / nm - 1).
    NaN if either sample is empty."""
    a, b = finite(a), finite(b)
    if a.size == 0 or b.size == 0:
        return math.nan
    sign = np.sign(a[:, None] - b[None, :])
    return float(sign.mean())


def bootstrap_ci(values, n_resamples: int = 10_000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (NaNs dropped), reproducible for a
    seed.  (NaN, NaN) for an empty sample.

    Returns
    -------
    lo : float
        Lower bound: the ``(1 - level) / 2`` quantile of the resampled means.
    hi : float
        Upper bound: the ``(1 + level) / 2`` quantile of the resampled means.
    """
    x = finite(values)
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation of the finite values (sd 0 for one value).

    Returns
    -------
    mean : float
        Mean of the finite values; NaN if there are none.
    sd : float
        Their sample standard deviation (ddof=1); 0.0 for one value, NaN for none.
    """
    x = finite(values)
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0


def rolling_median(values, window: int) -> np.ndarray:
    """Centred running median over ``window`` neighbours (NaNs ignored; NaN where a window has
    no finite value); the same length as ``values``.  For per-epoch series, where a point every
    epoch is too noisy to read and a mean would be pulled by the unsolved epochs' outliers."""
    x = np.asarray(values, dtype=np.float64)
    window = max(1, min(int(window), x.size))
    if x.size == 0:
        return x.copy()
    before = window // 2
    padded = np.pad(x, (before, window - 1 - before), constant_values=np.nan)
    frames = np.lib.stride_tricks.sliding_window_view(padded, window)
    with warnings.catch_warnings():  # all-NaN windows: NaN is the answer
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(frames, axis=1)
