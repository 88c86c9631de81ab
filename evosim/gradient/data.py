"""Training data for gradient mode: the same tasks as evolution, plus digit pairs.

- ``retina`` and ``logic-gates``: every input pattern (+-1 encoded), targets from the task's goal
  family; training and test set are the whole truth table.
- ``digit-pairs`` (source document 001): two 8x8 digits side by side (scikit-learn's bundled
  digits, no download; or MNIST IDX files given by path, 28x28), target a x + b y for digits x, y.
  Images are split into train and test first, so test pairs are of unseen images.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Dataset:
    x_train: np.ndarray       # float64[n, inputs]
    x_test: np.ndarray
    key_train: np.ndarray     # per sample: the truth-table row (tables) or the two digits (pairs)
    key_test: np.ndarray
    halves: tuple[np.ndarray, np.ndarray]   # input columns of the left and right halves
    kind: str                 # "table" or "pairs"
    pool_test: tuple | None = None   # pairs: (images, labels) of the test images, to resample
    split: dict | None = None        # what the run file records of the train/test split


def table_dataset(task) -> Dataset:
    """Every input pattern of a truth-table task, +-1 encoded."""
    x = (2.0 * ((np.arange(task.n_rows)[:, None] >> np.arange(task.n_inputs)) & 1) - 1.0)
    rows = np.arange(task.n_rows)
    half = task.n_inputs // 2
    return Dataset(x, x, rows, rows, (np.arange(half), np.arange(half, task.n_inputs)), "table",
                   split={"train_rows": rows, "test_rows": rows})


def pairs_dataset(n_pairs: int, test_fraction: float, rng: np.random.Generator,
                  mnist: tuple[str, str] | None = None) -> Dataset:
    images, labels = load_mnist(*mnist) if mnist else load_digits()
    order = rng.permutation(len(images))
    n_test = int(round(test_fraction * len(images)))
    test, train = order[:n_test], order[n_test:]
    side = images.shape[1]

    def pairs(pool, n):
        i, j = rng.choice(pool, size=(2, n))
        x = np.concatenate([images[i], images[j]], axis=2).reshape(n, -1)
        return x, np.stack([labels[i], labels[j]], axis=1)

    x_train, key_train = pairs(train, n_pairs)
    x_test, key_test = pairs(test, max(1, int(round(n_pairs * test_fraction))))
    columns = np.arange(side * 2 * side).reshape(side, 2 * side)
    return Dataset(x_train, x_test, key_train, key_test,
                   (columns[:, :side].ravel(), columns[:, side:].ravel()), "pairs",
                   pool_test=(images[test], labels[test]),
                   split={"test_images": np.sort(test), "train_pairs": key_train,
                          "test_pairs": key_test})


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1] (optional extra ``data``).

    Returns
    -------
    images : numpy.ndarray
        float64[n, 8, 8]: pixel intensities in [0, 1].
    labels : numpy.ndarray
        int64[n]: the digit 0..9 of each image.
    """
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        raise ValueError('task digit-pairs needs scikit-learn: pip install "evosim[data]", or '
                         'give MNIST files with gradient.mnist_images and gradient.mnist_labels') \
            from None
    digits = sk_digits()
    return digits.images / 16.0, digits.target.astype(np.int64)


def load_mnist(images_path: str, labels_path: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST in its IDX format (images: magic 2051, labels: magic 2049), scaled to [0, 1].

    Returns
    -------
    images : numpy.ndarray
        float64[n, rows, cols]: pixel intensities in [0, 1], in the IDX file's shape.
    labels : numpy.ndarray
        int64[n]: the digit of each image.
    """
    images = _read_idx(images_path, 2051)
    labels = _read_idx(labels_path, 2049)
    if len(images) != len(labels):
        raise ValueError(f"{images_path}: {len(images)} images but {labels_path}: {len(labels)} "
                         "labels")
    return images / 255.0, labels.astype(np.int64)


def _read_idx(path: str, magic: int) -> np.ndarray:
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ValueError(f"{path}: cannot read ({err.strerror})") from None
    header = np.frombuffer(raw[:4], dtype=">u4")[0] if len(raw) >= 4 else 0
    if header != magic:
        raise ValueError(f"{path}: not an IDX file of the expected kind (magic {magic})")
    dims = np.frombuffer(raw[4: 4 + 4 * (magic - 2048)], dtype=">u4").astype(int)
    data = np.frombuffer(raw[4 + 4 * len(dims):], dtype=np.uint8)
    return data.reshape(*dims).astype(np.float64 if magic == 2051 else np.int64)


def targets(dataset: Dataset, keys: np.ndarray, goal_target: np.ndarray) -> np.ndarray:
    """float64[n, 1]: the wanted output of each sample under one goal."""
    if dataset.kind == "table":
        return goal_target[keys].astype(np.float64)[:, None]
    return (keys @ goal_target.astype(np.float64))[:, None]


def resample_half(dataset: Dataset, x: np.ndarray, half: int, rng: np.random.Generator) -> np.ndarray:
    """x with one half (0 left, 1 right) replaced by that half of other samples."""
    columns = dataset.halves[half]
    out = x.copy()
    if dataset.kind == "table":
        donors = x[rng.integers(0, len(x), len(x))]
    else:
        images, _ = dataset.pool_test  # a fresh test image, placed in either half
        donor = images[rng.integers(0, len(images), len(x))]
        donors = np.concatenate([donor, donor], axis=2).reshape(len(x), -1)
    out[:, columns] = donors[:, columns]
    return out
