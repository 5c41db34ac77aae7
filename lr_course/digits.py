"""The 8x8 handwritten digits of the course: read, split 60/20/20 and standardized, once.

:func:`load_digits` is what the real models (:mod:`lr_course.models`, which re-exports it)
train on, and what lessons plot; the file and its licence are described in
``lr_course/data/README.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
from pathlib import Path

import numpy as np

from lr_course import _checks

__all__ = ["Digits", "load_digits", "SPLITS"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "digits.csv.gz"
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Digits:
    """The 8x8 handwritten digits, split and standardized (see :func:`load_digits`).

    Arrays are read-only; copy one (``np.array(d.X_train)``) to modify it.
    """

    X_train: np.ndarray  # (n_train, 64) standardized pixels
    y_train: np.ndarray  # (n_train,) labels 0..9, int64
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray  # (64,) per-pixel mean of the raw training pixels (0..16 scale)
    std: np.ndarray  # (64,) their standard deviation, 1.0 where a pixel is constant
    seed: int = 0  # the seed of the split
    n_classes: int = 10
    n_features: int = 64

    def split(self, name):
        """Return ``(X, y)`` of split ``name``: "train", "val" or "test"."""
        _checks.choice("split", name, SPLITS)
        return getattr(self, f"X_{name}"), getattr(self, f"y_{name}")

    def images(self, name="train"):
        """Return the raw 0..16 pixels of split ``name`` as images of shape (n, 8, 8)."""
        X, _ = self.split(name)
        return (X * self.std + self.mean).reshape(-1, 8, 8)


def _frozen(array, dtype):
    """A read-only view whose base is read-only too, so it cannot be made writeable again."""
    base = np.array(array, dtype=dtype)
    base.setflags(write=False)
    return base.view()


@functools.lru_cache(maxsize=8)
def load_digits(seed=0):
    """Load the 8x8 digits, split 60/20/20 and standardized; cached, arrays read-only.

    The split is stratified: within each class the rows are shuffled with
    ``numpy.random.default_rng(seed)`` and cut 60/20/20 (rounded), so every split has about
    the same class proportions as the whole set; each split is then shuffled. With the
    default ``seed=0`` that is 1078 training, 359 validation and 360 test images. Pixels are
    standardized with the training mean and standard deviation,

    .. math::

        x' = (x - m) / s

    where m and s are per pixel over the training rows and s is replaced by 1 for pixels that
    are constant there (some border pixels are always 0), so no division by zero happens and
    those features stay near 0.

    Args:
        seed: the seed of the split; other seeds give other (equally valid) splits, for
            showing how much a result depends on it.

    Returns:
        A frozen :class:`Digits`; the same object for the same seed (cached).

    Data: E. Alpaydin and C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine
    Learning Repository, 1998, doi:10.24432/C50P49 (CC BY 4.0); see ``lr_course/data/README.md``.

    >>> d = load_digits()
    >>> d.X_train.shape, d.X_val.shape, d.X_test.shape
    ((1078, 64), (359, 64), (360, 64))
    >>> d.n_classes, d.n_features
    (10, 64)
    """
    seed = _checks.integer("seed", seed, minimum=0)
    with gzip.open(DATA_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :64].astype(float), table[:, 64]

    rng = np.random.default_rng(seed)
    parts = {name: [] for name in SPLITS}
    for c in range(10):
        rows = rng.permutation(np.flatnonzero(labels == c))
        n_train, n_val = round(0.6 * rows.size), round(0.2 * rows.size)
        parts["train"].append(rows[:n_train])
        parts["val"].append(rows[n_train : n_train + n_val])
        parts["test"].append(rows[n_train + n_val :])
    # Shuffle within each split so consecutive index ranges are mixed minibatches.
    index = {name: rng.permutation(np.concatenate(p)) for name, p in parts.items()}

    mean = pixels[index["train"]].mean(axis=0)
    std = pixels[index["train"]].std(axis=0)
    std[std < 1e-12] = 1.0
    arrays = {}
    for name in SPLITS:
        arrays[f"X_{name}"] = _frozen((pixels[index[name]] - mean) / std, float)
        arrays[f"y_{name}"] = _frozen(labels[index[name]], np.int64)
    return Digits(**arrays, mean=_frozen(mean, float), std=_frozen(std, float), seed=int(seed))
