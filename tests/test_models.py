"""Tests for lr_course.digits (the splits) and lr_course.models (exact derivatives of the two models)."""

import gzip

import numpy as np
import pytest

from lr_course import digits as dataset
from lr_course import models
from lr_course.models import MLP, LogisticRegression, load_digits
from lr_course.problems import NoisyGradient


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def raw_table():
    with gzip.open(dataset.DATA_FILE, "rt") as f:
        return np.loadtxt(f, delimiter=",", dtype=np.int64)


# --- the dataset ------------------------------------------------------------------------------


def test_shapes_and_types(digits):
    assert digits.n_classes == 10 and digits.n_features == 64
    sizes = [len(digits.split(s)[1]) for s in dataset.SPLITS]
    assert sizes == [1078, 359, 360] and sum(sizes) == 1797
    for split in dataset.SPLITS:
        X, y = digits.split(split)
        assert X.shape == (len(y), 64) and X.dtype == np.float64
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
        assert np.all(np.isfinite(X))


def test_splits_partition_the_file_exactly(digits):
    """Undo the standardization: the three splits together are the file's rows, each once."""
    rows = []
    for split in dataset.SPLITS:
        X, y = digits.split(split)
        pixels = np.rint(digits.images(split).reshape(-1, 64)).astype(np.int64)
        np.testing.assert_allclose(digits.images(split).reshape(-1, 64), pixels, atol=1e-9)
        rows.append(np.column_stack([pixels, y]))
    ours = np.concatenate(rows)
    table = raw_table()
    assert table.shape == (1797, 65)
    np.testing.assert_array_equal(np.unique(ours, axis=0, return_counts=True)[1].sum(), 1797)
    np.testing.assert_array_equal(ours[np.lexsort(ours.T)], table[np.lexsort(table.T)])


def test_split_indices_do_not_overlap():
    """The same partition, by row identity rather than by value (the file has duplicates)."""
    table = raw_table()
    d = load_digits()
    # Match each split row to its file row by value; duplicated images are matched as a
    # multiset, so a row used twice would exhaust its copies.
    remaining = {}
    for row in map(tuple, table):
        remaining[row] = remaining.get(row, 0) + 1
    for split in dataset.SPLITS:
        pixels = np.rint(d.images(split).reshape(-1, 64)).astype(np.int64)
        for row in map(tuple, np.column_stack([pixels, d.split(split)[1]])):
            assert remaining.get(row, 0) > 0
            remaining[row] -= 1
    assert sum(remaining.values()) == 0


def test_class_balance_is_preserved(digits):
    overall = np.bincount(raw_table()[:, 64], minlength=10) / 1797
    for split in dataset.SPLITS:
        share = np.bincount(digits.split(split)[1], minlength=10) / len(digits.split(split)[1])
        np.testing.assert_allclose(share, overall, atol=0.01)


def test_standardized_with_train_statistics(digits):
    np.testing.assert_allclose(digits.X_train.mean(axis=0), 0.0, atol=1e-12)
    std = digits.X_train.std(axis=0)
    constant = digits.std == 1.0
    assert constant.sum() >= 1  # some border pixels never light up in the training rows
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-12)
    np.testing.assert_allclose(std[constant], 0.0, atol=1e-12)
    # Validation is standardized with the training statistics, not its own.
    assert np.abs(digits.X_val.mean(axis=0)).max() > 1e-3


def test_deterministic_cached_and_seeded():
    a = load_digits()
    assert load_digits() is a
    load_digits.cache_clear()
    b = load_digits()
    assert b is not a
    for split in dataset.SPLITS:
        np.testing.assert_array_equal(a.split(split)[0], b.split(split)[0])
        np.testing.assert_array_equal(a.split(split)[1], b.split(split)[1])
    c = load_digits(seed=1)
    assert c.X_train.shape == a.X_train.shape and not np.array_equal(c.y_train, a.y_train)


def test_cache_cannot_be_corrupted(digits):
    with pytest.raises(ValueError):
        digits.X_train[0, 0] = 1.0
    with pytest.raises(ValueError):
        digits.y_val[0] = 3
    with pytest.raises(ValueError):
        digits.X_train.setflags(write=True)
    with pytest.raises(AttributeError):
        digits.X_train = np.zeros((2, 64))


def test_dataset_bad_arguments(digits):
    with pytest.raises(ValueError, match="split"):
        digits.split("validation")
    with pytest.raises(ValueError, match="seed"):
        load_digits(seed=-1)
    with pytest.raises(ValueError, match="seed"):
        load_digits(seed=1.5)


# --- the models -------------------------------------------------------------------------------

MODELS = {
    "logreg": lambda: LogisticRegression(l2=1e-3),
    "mlp_tanh": lambda: MLP(hidden=8, activation="tanh", l2=1e-3),
    "mlp_relu": lambda: MLP(hidden=8, activation="relu", l2=1e-3),
}


def random_point(model, seed, scale=0.3):
    rng = np.random.default_rng(seed)
    return model.init(rng) + scale * rng.normal(size=model.dim)


@pytest.fixture(params=list(MODELS))
def model(request):
    return MODELS[request.param]()


def test_dims_and_layout():
    assert LogisticRegression().dim == 65 * 10
    assert MLP(hidden=32).dim == 64 * 32 + 32 + 32 * 10 + 10
    lr = LogisticRegression()
    W, b = lr.unpack(np.arange(lr.dim, dtype=float))
    assert W.shape == (64, 10) and b.shape == (10,) and b[0] == 640.0
    W1, b1, W2, b2 = MLP(hidden=4).unpack(np.arange(MLP(hidden=4).dim, dtype=float))
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((64, 4), (4,), (4, 10), (10,))
    assert b2[-1] == MLP(hidden=4).dim - 1


def test_grad_matches_finite_differences(model):
    x = random_point(model, 0)
    batch = np.arange(0, model.num_train, 7)
    g = model.grad(x, batch=batch)
    rng = np.random.default_rng(1)
    h = 1e-6
    for i in rng.choice(model.dim, size=25, replace=False):
        e = np.zeros(model.dim)
        e[i] = h
        fd = (model.loss(x + e, batch=batch) - model.loss(x - e, batch=batch)) / (2 * h)
        assert fd == pytest.approx(g[i], abs=1e-7, rel=1e-4)
    for _ in range(3):  # directional derivatives exercise every coordinate at once
        v = rng.normal(size=model.dim)
        fd = (model.loss(x + h * v, batch=batch) - model.loss(x - h * v, batch=batch)) / (2 * h)
        assert fd == pytest.approx(g @ v, rel=1e-5, abs=1e-8)


def test_full_logistic_regression_gradient_by_finite_differences():
    model = LogisticRegression(l2=1e-2)
    x = random_point(model, 3, scale=0.1)
    g = model.grad(x)
    h = 1e-6
    eye = np.eye(model.dim)
    fd = np.array([(model.loss(x + h * e) - model.loss(x - h * e)) / (2 * h) for e in eye])
    np.testing.assert_allclose(fd, g, atol=1e-8)


def relu_pattern(model, x, batch):
    W1, b1, _, _ = model.unpack(x)
    return model.data.X_train[batch] @ W1 + b1 > 0


def test_hvp_matches_finite_difference_of_grad(model):
    x = random_point(model, 4)
    batch = np.arange(0, model.num_train, 5)
    rng = np.random.default_rng(5)
    for _ in range(3):
        v = rng.normal(size=model.dim)
        h = 1e-5
        if isinstance(model, MLP) and model.activation == "relu":
            h = 1e-7
            # Finite differences are only valid if no unit crosses its kink between x - hv and x + hv.
            assert np.array_equal(relu_pattern(model, x + h * v, batch), relu_pattern(model, x - h * v, batch))
        fd = (model.grad(x + h * v, batch=batch) - model.grad(x - h * v, batch=batch)) / (2 * h)
        hv = model.hvp(x, v, batch=batch)
        np.testing.assert_allclose(hv, fd, atol=1e-5 * np.abs(hv).max())


def test_hvp_is_symmetric_and_linear(model):
    x = random_point(model, 6)
    rng = np.random.default_rng(7)
    u, v = rng.normal(size=(2, model.dim))
    Hu, Hv = model.hvp(x, u), model.hvp(x, v)
    assert u @ Hv == pytest.approx(v @ Hu, rel=1e-10)
    np.testing.assert_allclose(model.hvp(x, 2 * u - 3 * v), 2 * Hu - 3 * Hv, rtol=1e-9, atol=1e-12)


def test_logistic_regression_hessian():
    model = LogisticRegression(l2=1e-2)
    x = random_point(model, 8, scale=0.1)
    batch = np.arange(100)
    H = model.hessian(x, batch=batch)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    rng = np.random.default_rng(9)
    for _ in range(3):
        v = rng.normal(size=model.dim)
        np.testing.assert_allclose(H @ v, model.hvp(x, v, batch=batch), rtol=1e-10, atol=1e-12)
    eig = np.linalg.eigvalsh(H)
    # Convex: positive semi-definite. The softmax is unchanged by adding a constant to every
    # class's bias, so that direction has curvature 0 (biases are not regularised).
    assert eig.min() > -1e-10
    flat = np.zeros(model.dim)
    flat[-10:] = 1.0
    np.testing.assert_allclose(model.hvp(x, flat), 0.0, atol=1e-12)


def test_batches_are_means_over_rows(model):
    x = random_point(model, 10)
    batch = np.array([5, 17, 17, 300, 2])
    X, y = model.data.X_train[batch], model.data.y_train[batch]
    logits = model._logits(x, X)
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(5), y])
    W = model.unpack(x)
    penalty = 0.5 * model.l2 * sum(np.sum(w * w) for w in W if w.ndim == 2)
    assert model.loss(x, batch=batch) == pytest.approx(expected + penalty, rel=1e-12)
    assert model.loss(x) == pytest.approx(model.loss(x, batch=np.arange(model.num_train)), rel=1e-12)
    # With l2 = 0, the full gradient is the size-weighted mean of the minibatch gradients.
    model.l2 = 0.0
    parts = np.array_split(np.random.default_rng(0).permutation(model.num_train), 4)
    combined = sum(len(p) * model.grad(x, batch=p) for p in parts) / model.num_train
    np.testing.assert_allclose(combined, model.grad(x), rtol=1e-10, atol=1e-14)


def test_loss_and_grad_agree_with_separate_calls(model):
    x = random_point(model, 11)
    value, g = model.loss_and_grad(x, batch=np.arange(50))
    assert value == model.loss(x, batch=np.arange(50))
    np.testing.assert_array_equal(g, model.grad(x, batch=np.arange(50)))


def test_l2_penalises_weights_not_biases():
    for make in (lambda l2: LogisticRegression(l2=l2), lambda l2: MLP(hidden=4, l2=l2)):
        base, reg = make(0.0), make(0.5)
        x = random_point(base, 12)
        weights = sum(np.sum(w * w) for w in base.unpack(x) if w.ndim == 2)
        assert reg.loss(x) - base.loss(x) == pytest.approx(0.25 * weights, rel=1e-10)
        only_bias = np.zeros(base.dim)
        for w in base.unpack(only_bias):  # views: writes land in only_bias
            if w.ndim == 1:
                w[:] = 1.0
        assert reg.loss(only_bias) == pytest.approx(base.loss(only_bias), rel=1e-14)


def test_evaluate_and_accuracy(model):
    x = random_point(model, 13)
    for split in dataset.SPLITS:
        X, y = model.data.split(split)
        logits = model._logits(x, X)
        value, acc = model.evaluate(x, split)
        assert acc == pytest.approx(np.mean(np.argmax(logits, axis=1) == y))
        assert model.accuracy(x, split) == acc
        np.testing.assert_array_equal(model.predict(x, split), np.argmax(logits, axis=1))
    # The training-split loss of evaluate is the data term: the objective minus the penalty.
    W = model.unpack(x)
    penalty = 0.5 * model.l2 * sum(np.sum(w * w) for w in W if w.ndim == 2)
    assert model.evaluate(x, "train")[0] == pytest.approx(model.loss(x) - penalty, rel=1e-12)
    with pytest.raises(ValueError, match="split"):
        model.evaluate(x, "validation")


def test_x0_and_init(model):
    a, b = model.x0, model.x0
    np.testing.assert_array_equal(a, b)
    a[:] = 7.0
    assert not np.array_equal(model.x0, a)
    assert model.x0.shape == (model.dim,) and model.x0.dtype == np.float64
    # A sensible init starts near chance: loss about log(10).
    assert model.loss(model.x0) == pytest.approx(np.log(10), rel=0.3)


def test_mlp_init_is_seeded_and_scaled():
    model = MLP(hidden=32)
    a = model.init(np.random.default_rng(1))
    np.testing.assert_array_equal(a, model.init(np.random.default_rng(1)))
    assert not np.array_equal(a, model.init(np.random.default_rng(2)))
    W1, b1, W2, b2 = model.unpack(a)
    assert np.all(b1 == 0) and np.all(b2 == 0)
    assert W1.std() == pytest.approx(np.sqrt(2.0 / (64 + 32)), rel=0.1)  # Glorot uniform
    relu = MLP(hidden=32, activation="relu").init(np.random.default_rng(1))
    assert MLP(hidden=32).unpack(relu)[0].std() == pytest.approx(np.sqrt(2.0 / 64), rel=0.1)
    with pytest.raises(ValueError, match="rng"):
        model.init(0)


def test_divergence_is_quiet_and_stable_softmax_is_finite(model):
    x = random_point(model, 14)
    with np.errstate(all="raise"):
        huge = model.loss(x * 1e300)
        assert not np.isfinite(huge) or huge > 1e10
        model.grad(x * 1e300)
        model.hvp(x * 1e300, np.ones(model.dim))
        model.evaluate(x * 1e300)
        # Large but finite logits: log-sum-exp keeps the loss finite.
        assert np.isfinite(model.loss(x * 1e3))
        assert np.all(np.isfinite(model.grad(x * 1e3)))


@pytest.mark.parametrize(
    "batch",
    [np.array([-1, 2]), np.array([0, 10**6]), np.array([0.0, 1.0]), np.array([], dtype=int),
     np.zeros((2, 2), dtype=int), [True, False]],
)
def test_bad_batches(model, batch):
    with pytest.raises(ValueError, match="batch"):
        model.loss(model.x0, batch=batch)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_minus_onehot_reaches_every_layout(layout):
    # the flat write is only a view of a C-ordered array; other layouts take the other way
    rng = np.random.default_rng(0)
    base = rng.uniform(size=(7, 20))
    P = {"C": base[:, :5].copy(), "F": np.asfortranarray(base[:, :5]),
         "strided": base[:, ::4]}[layout]
    y = rng.integers(0, 5, 7)
    want = P.copy()
    want[np.arange(7), y] -= 1.0
    models._minus_onehot(P, y)
    np.testing.assert_array_equal(P, want)


def test_batch_indices_of_every_integer_dtype_are_bounded():
    model = LogisticRegression()
    for dtype in (np.int8, np.int16, ">i4", np.int64, np.uint8, ">u2", np.uint64):
        good = np.array([0, 5, 100], dtype=dtype)
        X, y = model._batch(good)
        np.testing.assert_array_equal(X, model.data.X_train[[0, 5, 100]])
        np.testing.assert_array_equal(y, model.data.y_train[[0, 5, 100]])
    for bad in (np.array([-1], dtype=np.int8), np.array([1078], dtype=">u2"),
                np.array([3, -(2**63)]), np.array([model.num_train], dtype=np.uint64)):
        with pytest.raises(ValueError, match="batch indices must be in"):
            model._batch(bad)


def test_bad_arguments():
    with pytest.raises(ValueError, match="params"):
        LogisticRegression().loss(np.zeros(5))
    with pytest.raises(ValueError, match="v"):
        MLP(hidden=4).hvp(MLP(hidden=4).x0, np.zeros(3))
    with pytest.raises(ValueError, match="l2"):
        LogisticRegression(l2=-1.0)
    with pytest.raises(ValueError, match="l2"):
        MLP(l2=np.nan)
    with pytest.raises(ValueError, match="hidden"):
        MLP(hidden=0)
    with pytest.raises(ValueError, match="hidden"):
        MLP(hidden=2.5)
    with pytest.raises(ValueError, match="activation"):
        MLP(activation="sigmoid")
    with pytest.raises(ValueError, match="data"):
        LogisticRegression(data=object())


def test_logistic_regression_learns_the_digits_with_plain_gd():
    model = LogisticRegression()
    x = model.x0
    for _ in range(200):
        x = x - 0.5 * model.grad(x)
    assert model.accuracy(x, "val") > 0.90
    assert model.loss(x) < 0.5 * model.loss(model.x0)


def test_mlp_learns_with_minibatch_sgd():
    model = MLP(hidden=32)
    rng = np.random.default_rng(0)
    x = model.x0
    for _ in range(400):
        x = x - 0.5 * model.grad(x, batch=rng.choice(model.num_train, size=32, replace=False))
    assert model.accuracy(x, "val") > 0.90


def test_noisy_gradient_wraps_a_model_with_batches():
    model = LogisticRegression()
    noisy = NoisyGradient(model, sigma=0.01, rng=np.random.default_rng(0))
    batch = np.arange(10)
    assert noisy.loss(model.x0, batch=batch) == model.loss(model.x0, batch=batch)
    diff = noisy.grad(model.x0, batch=batch) - model.grad(model.x0, batch=batch)
    assert 0.005 < diff.std() < 0.02
    assert noisy.num_train == model.num_train and noisy.evaluate(model.x0) == model.evaluate(model.x0)
