"""lr_scan.gd_paths: the iterates of training.train with sgd, run by run, bit for bit."""

import numpy as np
import pytest

from lr_course import lr_scan, optimizers, training
from lr_course.problems import Quadratic


def one_by_one(problem, lrs, num_steps, **sgd_kwargs):
    """The loop the scan replaces: one train() per lr, its recorded params stacked."""
    runs = [training.train(problem, optimizers.sgd(lr=lr, **sgd_kwargs), num_steps=num_steps,
                           record_params=True, blowup=None).params for lr in lrs]
    return np.stack(runs, axis=1)            # (step, lr, coordinate), as gd_paths


@pytest.mark.parametrize("sgd_kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True},
                                        {"momentum": 0.5}])
def test_gd_paths_are_the_one_lr_runs_bit_for_bit(sgd_kwargs):
    bowl = Quadratic([1.0, 3.0, 10.0], rotation=np.random.default_rng(0))
    beta = sgd_kwargs.get("momentum", 0.0)
    limit = (2 + 2 * beta) / bowl.L          # the threshold of GD and heavy ball (lesson 02)
    if sgd_kwargs.get("nesterov"):
        limit /= 1 + 2 * beta                # Nesterov's lower one
    lrs = limit * np.geomspace(0.1, 1.1, 23)           # the last rates grow: past every limit
    paths = lr_scan.gd_paths(bowl, lrs, 300, **sgd_kwargs)
    loop = one_by_one(bowl, lrs, 300, **sgd_kwargs)
    assert paths.shape == loop.shape == (301, 23, 3)
    assert np.array_equal(paths, loop)
    distance = np.linalg.norm(paths[-1] - bowl.minimum, axis=1)
    assert distance[-1] > 1e3 and distance[0] < 1.0    # both outcomes are in the comparison


def test_gd_paths_start_where_asked_and_check_their_arguments():
    q = Quadratic.one_d(curvature=2.0, x0=1.0)
    paths = lr_scan.gd_paths(q, [0.25], 2, params=[4.0])
    assert paths[:, 0, 0].tolist() == [4.0, 2.0, 1.0]        # x <- (1 - 0.25 * 2) x
    assert lr_scan.gd_paths(q, [0.1, 0.2], 0).shape == (1, 2, 1)
    for bad, match in [(dict(lrs=[0.1, -0.1]), "lrs"), (dict(num_steps=-1), "num_steps"),
                       (dict(momentum=-0.5), "momentum"), (dict(nesterov=True), "nesterov"),
                       (dict(params=[1.0, 2.0]), "params")]:
        kwargs = dict(lrs=[0.1], num_steps=3) | bad
        with pytest.raises(ValueError, match=match):
            lr_scan.gd_paths(q, **kwargs)
    with pytest.raises(ValueError, match="Quadratic"):
        lr_scan.gd_paths(object(), [0.1], 3)
