"""The check library of graded test cells, and everything that runs inside the sandbox.

An assignment's test cells (in its nbgrader source notebook) import this package and say
*what* to check; the solution cells of the same notebook are the reference::

    from lr_course.grading import checks as ck

    rng = ck.rng("adam")
    params = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(4)]
    ck.rollout(adam_init, adam_update, params, grads, lr=0.01)      # same path as the solution
    ck.raises(adam_update, params, grads[0], adam_init(params), lr=-1.0, names="lr")

The declarations (:mod:`.declare`):

=========================  ===========================================================
``same(f, *args)``         the result (or the ValueError) equals the solution's
``raises(f, *args, names)``  a ValueError whose message names the bad argument
``unchanged(f, *args)``    the arguments are not modified
``rollout(init, update, params, grads)``  an optimizer's path equals the solution's
                           (``check="unchanged"``: no update modifies its inputs)
``invariant(..., scales)`` the path does not change when the gradients are rescaled
``reproducible(f, ...)``   same seed, same result; another seed, another result
``log_uniform_samples``    samples in [low, high), uniform in log
``search(f, objective)``   a search calls the objective once per lr and returns the best
``reaches_target``         a schedule brings a noisy quadratic's expected loss to a target
``pure(schedule)``         a schedule gives the same rates when run twice
``trains``                 an optimizer trains a course model to a validation accuracy
``part(what, points)``     the checks that follow earn these points together
``rng(label)``             the seeded Generator to draw inputs from
=========================  ===========================================================

Only the standard library, numpy and (for ``trains``) :mod:`lr_course.models` are imported,
because this whole package is copied into the sandbox: :mod:`.calls` and :mod:`.codec`
carry calls and records across the wall, :mod:`.runner` is the program there,
:mod:`.watch` notices tampering, :mod:`.compare` judges (in the grader, or in a kernel for a
self-check) and :mod:`.modes` decides where a declared check goes.
"""

from .check import Check
from .declare import (invariant, log_uniform_samples, objective, part, pure, raises,
                      reaches_target, reproducible, rng, rollout, same, search, seeded, trains,
                      unchanged)

__all__ = ["Check", "same", "raises", "unchanged", "rollout", "invariant", "reproducible",
           "log_uniform_samples", "search", "reaches_target", "pure", "trains", "part", "rng",
           "seeded", "objective"]
