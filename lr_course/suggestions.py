r"""fastai's three ways to read a learning rate off a range-test curve, beside the course's own.

A range test (:func:`lr_course.finder.range_test`) leaves a curve: the smoothed loss
:math:`\bar\ell_i` at geometrically growing rates :math:`\eta_i`. fastai's ``lr_find`` reads it
with these rules (``fastai/callback/schedule.py``):

- **minimum/10**: a tenth of the rate at the lowest loss. This is the course's own rule
  (``RangeTestResult.suggestion``).
- **steep**: the rate where the loss falls fastest per unit of :math:`\log\eta`, i.e. the left
  end of the segment with the most negative slope
  :math:`(\bar\ell_{i+1} - \bar\ell_i) / (\log\eta_{i+1} - \log\eta_i)`.
- **valley** (the default of fastai's ``lr_find``): take the longest chain of points whose
  losses strictly decrease (a longest decreasing subsequence: points may be skipped, so a
  noisy curve still has a long chain), ending at index :math:`e` with :math:`k` points; call
  :math:`s = e - k` its start, as if the chain were contiguous, and pick index
  :math:`s + \lfloor k/3 \rfloor + \lfloor k/6 \rfloor`: the middle of the middle third, so about
  halfway along the valley in steps of the sweep (not two thirds, as it is sometimes described).

Before applying a rule, fastai drops the first tenth of the records (``num_it // 10``, where the
rate is too small to matter) and the last five (where the loss is already rising towards the
blow-up), and cuts the curve at its first NaN. :func:`fastai_suggestions` does the same to a
course :class:`~lr_course.finder.RangeTestResult`; the three rule functions take any curve.

Differences from fastai, on purpose: a curve is cut at its first non-finite value (fastai cuts
only at NaN); a curve that never decreases raises ``ValueError`` for steep and valley (fastai
returns a meaningless index); and valley's index is kept at 0 or above (fastai's arithmetic
gives -1, the last point, for a two-point valley at the very start). fastai also pairs each
rate with the loss measured *before* its update, the course with the loss after it.

References: L. N. Smith, arXiv:1506.01186 (the range test); fastai's ``lr_find`` and its
suggestion functions ``minimum``, ``steep`` and ``valley`` (fastai 2,
``fastai/callback/schedule.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["suggest_minimum", "suggest_steep", "suggest_valley", "fastai_suggestions"]


def _curve(lrs, losses):
    """Check a curve; return it as float arrays, cut at its first non-finite loss."""
    lrs = np.asarray(lrs, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if lrs.ndim != 1 or losses.shape != lrs.shape:
        raise ValueError(f"lrs and losses must be 1-D of the same length, got shapes "
                         f"{lrs.shape} and {losses.shape}")
    if not np.all(np.isfinite(lrs) & (lrs > 0)) or np.any(np.diff(lrs) <= 0):
        raise ValueError(f"lrs must be positive, finite and strictly increasing, got {lrs!r:.120}")
    bad = ~np.isfinite(losses)
    cut = int(np.argmax(bad)) if bad.any() else len(losses)
    if cut < 2:
        raise ValueError(f"losses need at least 2 finite values before the first NaN or inf, "
                         f"got {cut} (losses {losses!r:.120})")
    return lrs[:cut], losses[:cut]


def suggest_minimum(lrs, losses) -> float:
    r"""A tenth of the rate at the lowest loss (fastai's ``minimum``; the course's rule).

    .. math:: \eta^* = \eta_{\arg\min_i \bar\ell_i} / 10

    Args:
        lrs: the rates of the sweep, positive and increasing.
        losses: the (smoothed) loss at each rate; the curve is cut at its first NaN or inf.

    Returns:
        The suggested rate. When the loss never falls this is ``lrs[0] / 10``, below the
        range swept: a sign to start the sweep lower.

    >>> suggest_minimum([0.01, 0.1, 1.0, 10.0], [2.0, 1.0, 0.5, 3.0])
    0.1
    """
    lrs, losses = _curve(lrs, losses)
    return float(lrs[np.argmin(losses)] / 10)


def suggest_steep(lrs, losses) -> float:
    r"""The rate where the loss falls fastest against log(lr) (fastai's ``steep``).

    .. math::

        g_i = \frac{\bar\ell_{i+1} - \bar\ell_i}{\log\eta_{i+1} - \log\eta_i}, \qquad
        \eta^* = \eta_{\arg\min_i g_i}

    Args:
        lrs: the rates of the sweep, positive and increasing.
        losses: the (smoothed) loss at each rate; the curve is cut at its first NaN or inf.

    Returns:
        The suggested rate (the left end of the steepest falling segment).

    Raises:
        ValueError: if no segment falls (the curve never decreases), or bad arguments.

    >>> suggest_steep([0.01, 0.1, 1.0, 10.0], [2.0, 1.9, 0.5, 3.0])
    0.1
    """
    lrs, losses = _curve(lrs, losses)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    steepest = int(np.argmin(slopes))
    if slopes[steepest] >= 0:
        raise ValueError(f"the loss never decreases over lrs {lrs[0]:.3g} to {lrs[-1]:.3g}, "
                         f"so there is no steepest descent: sweep from a smaller lr_min")
    return float(lrs[steepest])


def _longest_decreasing_chain(losses):
    """``chain[i]``: the most points of a strictly decreasing subsequence that ends at ``i``."""
    chain = np.ones(len(losses), dtype=int)
    for i in range(1, len(losses)):
        higher = losses[:i] > losses[i]       # earlier points this one can follow
        if higher.any():
            chain[i] = chain[:i][higher].max() + 1
    return chain


def suggest_valley(lrs, losses) -> float:
    r"""The rate about halfway along the longest decreasing stretch (fastai's ``valley``).

    With :math:`c_i` the length of the longest strictly decreasing subsequence of the losses
    that ends at :math:`i`, :math:`e` the first index of the largest :math:`c`, :math:`k = c_e`
    and :math:`s = e - k`:

    .. math:: \eta^* = \eta_j, \qquad j = \max\big(0,\; s + \lfloor k/3 \rfloor + \lfloor k/6 \rfloor\big)

    Args:
        lrs: the rates of the sweep, positive and increasing.
        losses: the (smoothed) loss at each rate; the curve is cut at its first NaN or inf.

    Returns:
        The suggested rate.

    Raises:
        ValueError: if the curve never decreases (its longest chain is one point), or bad
            arguments.

    >>> lrs = 10.0 ** np.arange(-4, 3)                  # 1e-4 ... 1e2
    >>> suggest_valley(lrs, [5, 4, 3, 2, 1, 0.5, 9])    # falls over six points, then jumps
    0.01
    """
    lrs, losses = _curve(lrs, losses)
    chain = _longest_decreasing_chain(losses)
    end = int(np.argmax(chain))
    length = int(chain[end])
    if length < 2:
        raise ValueError(f"the loss never decreases over lrs {lrs[0]:.3g} to {lrs[-1]:.3g}, "
                         f"so there is no valley: sweep from a smaller lr_min")
    start = end - length
    return float(lrs[max(0, start + length // 3 + length // 6)])


def fastai_suggestions(result, *, trim=True) -> dict:
    """The three rules applied to a range test's smoothed curve, trimmed the way fastai trims.

    Args:
        result: a :class:`lr_course.finder.RangeTestResult` (its ``lrs`` and ``smoothed``).
        trim: drop the first ``len // 10`` records and the last 5, as fastai's ``lr_find``
            does; False keeps every record. (fastai trims by the *planned* number of steps,
            which is the number made unless its test stopped early.)

    Returns:
        ``{"minimum/10": lr, "steep": lr, "valley": lr}``.

    Raises:
        ValueError: if fewer than 2 records are left after trimming, or a rule finds no
            decrease (see :func:`suggest_steep`, :func:`suggest_valley`).

    >>> from lr_course.finder import range_test
    >>> from lr_course.optimizers import sgd
    >>> from lr_course.problems import Quadratic
    >>> rules = fastai_suggestions(range_test(Quadratic([0.5, 10.0]), lambda lr: sgd(lr=lr)))
    >>> sorted(rules), all(0 < lr < 1 for lr in rules.values())
    (['minimum/10', 'steep', 'valley'], True)
    """
    lrs = np.asarray(result.lrs, dtype=float)
    losses = np.asarray(result.smoothed, dtype=float)
    if trim:
        lrs, losses = lrs[len(lrs) // 10: -5], losses[len(losses) // 10: -5]
    return {"minimum/10": suggest_minimum(lrs, losses), "steep": suggest_steep(lrs, losses),
            "valley": suggest_valley(lrs, losses)}
