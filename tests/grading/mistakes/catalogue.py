"""Planted mistakes: each replaces one solution cell and must lose the points of named tests.

A mistake is ``(assignment, name, cell grade_id, new cell source, tests it must fail)``.
The other tests of the assignment must still pass (the mistake is caught where it should be,
and nowhere else by accident), except those listed in ``also``.
"""

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SOURCE = Path(__file__).resolve().parents[3] / "autograder" / "source"


def source_nb(assignment: str):
    """The instructor's source notebook of an assignment (the solution)."""
    return nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)


def with_cell(nb, grade_id: str, source: str):
    """A copy of ``nb`` whose cell ``grade_id`` reads ``source``."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(cells) == 1, grade_id
    cells[0].source = source
    return nb


def _solution_helpers() -> str:
    """The step helpers of ps1's first solution cell, as the source notebook has them."""
    cell = next(c for c in source_nb("ps1_schedules").cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "step_decay")
    return cell.source[:cell.source.index("def step_decay")]


HELPERS = "import math\n" + _solution_helpers()


@dataclass(frozen=True)
class Mistake:
    assignment: str
    name: str
    cell: str                 # grade_id of the solution cell replaced
    source: str               # the mistaken cell
    loses: tuple              # grade_ids of tests that must score 0
    also: tuple = field(default=())  # other tests allowed to fail


PS1 = [
    Mistake("ps1_schedules", "step_decay_not_floored", "step_decay", HELPERS + '''
def step_decay(lr0, step, drop_every, factor=0.5):
    _check_positive("lr0", lr0)
    if drop_every < 1: raise ValueError(f"drop_every must be >= 1, got {drop_every}")
    if not 0 < factor <= 1: raise ValueError(f"factor must be in (0, 1], got {factor}")
    t = _check_step(step)
    return _as_result(lr0 * factor ** (t / drop_every), step)
''', ("test_step_decay", "test_step_decay_hidden")),
    Mistake("ps1_schedules", "step_decay_scalar_only", "step_decay", HELPERS + '''
def step_decay(lr0, step, drop_every, factor=0.5):
    _check_positive("lr0", lr0)
    if drop_every < 1: raise ValueError(f"drop_every must be >= 1, got {drop_every}")
    if not 0 < factor <= 1: raise ValueError(f"factor must be in (0, 1], got {factor}")
    if step < 0: raise ValueError(f"step must be >= 0, got {step}")
    return lr0 * factor ** math.floor(step / drop_every)
''', ("test_step_decay_hidden",)),
    Mistake("ps1_schedules", "step_decay_no_valueerror", "step_decay", HELPERS + '''
def step_decay(lr0, step, drop_every, factor=0.5):
    t = np.asarray(step)
    return _as_result(lr0 * factor ** (t // max(drop_every, 1)), step)
''', ("test_step_decay_hidden",)),
    Mistake("ps1_schedules", "staircase_not_floored", "exponential_decay", '''
def exponential_decay(lr0, step, decay_rate, decay_steps, staircase=False):
    _check_positive("lr0", lr0)
    if not 0 < decay_rate <= 1: raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate}")
    if not decay_steps > 0: raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _check_step(step)
    return _as_result(lr0 * decay_rate ** (t / decay_steps), step)
''', ("test_exponential_decay",), also=("test_exponential_decay_hidden",)),
    Mistake("ps1_schedules", "exponential_modifies_step", "exponential_decay", '''
def exponential_decay(lr0, step, decay_rate, decay_steps, staircase=False):
    _check_positive("lr0", lr0)
    if not 0 < decay_rate <= 1: raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate}")
    if not decay_steps > 0: raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _check_step(step)
    if staircase:
        t //= decay_steps
        return _as_result(lr0 * decay_rate ** t, step)
    return _as_result(lr0 * decay_rate ** (t / decay_steps), step)
''', ("test_exponential_decay_hidden",), also=("test_exponential_decay",)),
    Mistake("ps1_schedules", "cosine_keeps_cycling", "cosine_decay", '''
def cosine_decay(lr0, step, total_steps, lr_min=0.0):
    _check_positive("lr0", lr0)
    if not total_steps >= 1: raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0 <= lr_min <= lr0: raise ValueError(f"lr_min must be in [0, lr0], got {lr_min}")
    t = _check_step(step)
    return _as_result(lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t / total_steps)) / 2, step)
''', ("test_cosine_decay_hidden",), also=("test_cosine_decay",)),
    Mistake("ps1_schedules", "warmup_off_by_one", "linear_warmup", '''
def linear_warmup(lr_peak, step, warmup_steps):
    _check_positive("lr_peak", lr_peak)
    if not warmup_steps >= 1: raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    t = _check_step(step)
    return _as_result(lr_peak * np.minimum(1.0, t / warmup_steps), step)
''', ("test_linear_warmup",), also=("test_linear_warmup_hidden",)),
    Mistake("ps1_schedules", "inverse_time_staircase_ignored", "inverse_time_decay", '''
def inverse_time_decay(lr0, step, decay_rate, decay_steps=1, staircase=False):
    _check_positive("lr0", lr0)
    if not decay_rate >= 0: raise ValueError(f"decay_rate must be >= 0, got {decay_rate}")
    _check_positive("decay_steps", decay_steps)
    t = _check_step(step)
    return _as_result(lr0 / (1 + decay_rate * t / decay_steps), step)
''', ("test_inverse_time_decay",), also=("test_inverse_time_decay_hidden",)),
    Mistake("ps1_schedules", "constant_schedule", "my_schedule", '''
def my_schedule(step):
    return 0.1
''', ("test_my_schedule",)),
]

_ADAM = '''def adam_init(params):
    return {{"m": np.zeros_like(params, dtype=float), "v": np.zeros_like(params, dtype=float), "t": 0}}


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    _check_arrays(params, grads)
    _check_range("lr", lr, 0.0, None)
    _check_range("beta1", beta1, 0.0, 1.0)
    _check_range("beta2", beta2, 0.0, 1.0)
    _check_range("eps", eps, 0.0, None)
    {body}
'''


def _adam(body):
    return _ADAM.format(body=body.strip().replace("\n", "\n    "))


PS2 = [
    Mistake("ps2_adaptive", "adam_no_bias_correction", "adam", _adam('''
t = state["t"] + 1
m = beta1 * state["m"] + (1 - beta1) * grads
v = beta2 * state["v"] + (1 - beta2) * grads**2
return params - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v, "t": t}
'''), ("test_adam", "test_adam_hidden"), also=("test_adam_digits",)),
    Mistake("ps2_adaptive", "adam_eps_inside_sqrt", "adam", _adam('''
t = state["t"] + 1
m = beta1 * state["m"] + (1 - beta1) * grads
v = beta2 * state["v"] + (1 - beta2) * grads**2
return params - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), {"m": m, "v": v, "t": t}
'''), ("test_adam_hidden",), also=("test_adam",)),   # visible when a drawn gradient is tiny
    Mistake("ps2_adaptive", "adam_counter_from_zero", "adam", _adam('''
t = state["t"]
m = beta1 * state["m"] + (1 - beta1) * grads
v = beta2 * state["v"] + (1 - beta2) * grads**2
with np.errstate(all="ignore"):
    new = params - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
return new, {"m": m, "v": v, "t": t + 1}
'''), ("test_adam", "test_adam_hidden", "test_adam_digits")),
    Mistake("ps2_adaptive", "adam_modifies_input", "adam", _adam('''
state["t"] += 1
t = state["t"]
state["m"] = beta1 * state["m"] + (1 - beta1) * grads
state["v"] = beta2 * state["v"] + (1 - beta2) * grads**2
params -= lr * (state["m"] / (1 - beta1**t)) / (np.sqrt(state["v"] / (1 - beta2**t)) + eps)
return params, state
'''), ("test_inputs_unchanged",)),
    Mistake("ps2_adaptive", "adam_no_valueerror", "adam", '''
def adam_init(params):
    return {"m": np.zeros_like(params, dtype=float), "v": np.zeros_like(params, dtype=float), "t": 0}


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grads
    v = beta2 * state["v"] + (1 - beta2) * grads**2
    return params - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), {"m": m, "v": v, "t": t}
''', ("test_invalid_arguments",)),
    Mistake("ps2_adaptive", "momentum_ema_form", "sgd_momentum", '''
def sgd_momentum_init(params):
    return {"velocity": np.zeros_like(params, dtype=float)}


def sgd_momentum_update(params, grads, state, lr=0.01, momentum=0.9):
    _check_arrays(params, grads)
    _check_range("lr", lr, 0.0, None)
    _check_range("momentum", momentum, 0.0, 1.0)
    v = momentum * state["velocity"] + (1 - momentum) * grads
    return params - lr * v, {"velocity": v}
''', ("test_sgd_momentum", "test_sgd_momentum_hidden")),
    Mistake("ps2_adaptive", "adagrad_forgets", "adagrad", '''
def adagrad_init(params):
    return {"sum_sq": np.zeros_like(params, dtype=float)}


def adagrad_update(params, grads, state, lr=0.01, eps=1e-10):
    _check_arrays(params, grads)
    _check_range("lr", lr, 0.0, None)
    _check_range("eps", eps, 0.0, None)
    s = grads**2
    return params - lr * grads / (np.sqrt(s) + eps), {"sum_sq": state["sum_sq"] + s}
''', ("test_adagrad", "test_adagrad_hidden")),
    Mistake("ps2_adaptive", "rmsprop_1d_only", "rmsprop", '''
def rmsprop_init(params):
    return {"avg_sq": np.zeros(len(params))}


def rmsprop_update(params, grads, state, lr=0.01, rho=0.99, eps=1e-8):
    _check_arrays(params, grads)
    _check_range("lr", lr, 0.0, None)
    _check_range("rho", rho, 0.0, 1.0)
    _check_range("eps", eps, 0.0, None)
    s = np.array([rho * state["avg_sq"][i] + (1 - rho) * float(grads[i]) ** 2 for i in range(len(params))])
    new = [float(params[i]) - lr * float(grads[i]) / (np.sqrt(s[i]) + eps) for i in range(len(params))]
    return np.array(new), {"avg_sq": s}
''', ("test_rmsprop_hidden",), also=("test_inputs_unchanged",)),
]

PS3 = [
    Mistake("ps3_tuning", "grid_linear", "lr_grid", '''
def lr_grid(low, high, num):
    if not 0 < low: raise ValueError(f"low must be > 0, got {low}")
    if not low < high: raise ValueError(f"need low < high, got low={low}, high={high}")
    if num < 2: raise ValueError(f"num must be >= 2, got {num}")
    return np.linspace(low, high, num)
''', ("test_lr_grid", "test_lr_grid_hidden")),
    Mistake("ps3_tuning", "grid_excludes_high", "lr_grid", '''
def lr_grid(low, high, num):
    if not 0 < low: raise ValueError(f"low must be > 0, got {low}")
    if not low < high: raise ValueError(f"need low < high, got low={low}, high={high}")
    if num < 2: raise ValueError(f"num must be >= 2, got {num}")
    return np.geomspace(low, high, num, endpoint=False)
''', ("test_lr_grid", "test_lr_grid_hidden")),
    Mistake("ps3_tuning", "grid_no_valueerror", "lr_grid", '''
def lr_grid(low, high, num):
    return np.geomspace(low, high, num)
''', ("test_lr_grid_hidden",)),
    Mistake("ps3_tuning", "uniform_not_log", "log_uniform", '''
def log_uniform(low, high, size, rng):
    if not 0 < low: raise ValueError(f"low must be > 0, got {low}")
    if not low < high: raise ValueError(f"need low < high, got low={low}, high={high}")
    if size < 0: raise ValueError(f"size must be >= 0, got {size}")
    return rng.uniform(low, high, size)
''', ("test_log_uniform", "test_random_search_hidden")),
    Mistake("ps3_tuning", "global_random_state", "log_uniform", '''
def log_uniform(low, high, size, rng):
    if not 0 < low: raise ValueError(f"low must be > 0, got {low}")
    if not low < high: raise ValueError(f"need low < high, got low={low}, high={high}")
    if size < 0: raise ValueError(f"size must be >= 0, got {size}")
    return np.exp(np.random.uniform(math.log(low), math.log(high), size))
''', ("test_log_uniform_hidden", "test_random_search_hidden")),
    Mistake("ps3_tuning", "critical_one_over_lambda", "critical_lr", '''
def critical_lr(hessian):
    h = np.asarray(hessian, dtype=float)
    if h.ndim != 2 or h.shape[0] != h.shape[1]: raise ValueError("hessian must be square")
    if not np.allclose(h, h.T): raise ValueError("hessian must be symmetric")
    if not np.linalg.eigvalsh(h)[0] > 0: raise ValueError("hessian must be positive definite")
    return 1.0 / np.linalg.eigvalsh(hessian)[-1]
''', ("test_critical_lr", "test_critical_lr_hidden")),
    Mistake("ps3_tuning", "critical_max_diagonal", "critical_lr", '''
def critical_lr(hessian):
    h = np.asarray(hessian, dtype=float)
    if h.ndim != 2 or h.shape[0] != h.shape[1]: raise ValueError("hessian must be square")
    if not np.allclose(h, h.T): raise ValueError("hessian must be symmetric")
    if not np.linalg.eigvalsh(h)[0] > 0: raise ValueError("hessian must be positive definite")
    return 2.0 / np.max(np.diag(hessian))
''', ("test_critical_lr", "test_critical_lr_hidden")),
    Mistake("ps3_tuning", "grid_search_picks_nan", "grid_search", '''
def grid_search(objective, lrs):
    scores = np.array([objective(lr) for lr in lrs], dtype=float)
    return lrs[int(np.argmin(scores))], scores
''', ("test_grid_search_hidden",), also=("test_random_search_hidden",)),
    Mistake("ps3_tuning", "random_search_ignores_rng", "random_search", '''
def random_search(objective, low, high, n, rng):
    if n < 1: raise ValueError(f"n must be >= 1, got {n}")
    lrs = log_uniform(low, high, n, np.random.default_rng())
    best, scores = grid_search(objective, lrs)
    return best, lrs, scores
''', ("test_random_search_hidden",)),
]

# Mistakes at the edges of the stated ranges, and in defaults and eps placement: each one
# changes a single comparison, constant or default of the solution (the mutants that the
# earlier batteries let through).
def _edit(assignment, cell, old, new):
    """The solution cell ``cell`` with ``old`` replaced by ``new`` (exactly once)."""
    source = next(c for c in source_nb(assignment).cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == cell).source
    source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION\n", "", source, flags=re.MULTILINE)
    assert source.count(old) == 1, (cell, old)
    return source.replace(old, new)


EDGES = [
    Mistake("ps1_schedules", "factor_one_rejected", "step_decay", _edit(
        "ps1_schedules", "step_decay", "0 < factor <= 1", "0 < factor < 1"),
        ("test_step_decay_hidden",)),
    Mistake("ps1_schedules", "drop_every_one_rejected", "step_decay", _edit(
        "ps1_schedules", "step_decay", "drop_every >= 1", "drop_every > 1"),
        ("test_step_decay_hidden",)),
    Mistake("ps1_schedules", "decay_rate_one_rejected", "exponential_decay", _edit(
        "ps1_schedules", "exponential_decay", "0 < decay_rate <= 1", "0 < decay_rate < 1"),
        ("test_exponential_decay_hidden",)),
    Mistake("ps1_schedules", "inverse_time_default_changed", "inverse_time_decay", _edit(
        "ps1_schedules", "inverse_time_decay", "decay_steps=1,", "decay_steps=10,"),
        ("test_inverse_time_decay",), also=("test_inverse_time_decay_hidden",)),
    Mistake("ps1_schedules", "lr_min_equal_lr0_rejected", "cosine_decay", _edit(
        "ps1_schedules", "cosine_decay", "0 <= lr_min <= lr0", "0 <= lr_min < lr0"),
        ("test_cosine_decay_hidden",)),
    Mistake("ps1_schedules", "total_steps_one_rejected", "cosine_decay", _edit(
        "ps1_schedules", "cosine_decay", "total_steps >= 1", "total_steps > 1"),
        ("test_cosine_decay_hidden",)),
    Mistake("ps2_adaptive", "lr_zero_rejected", "adam", _edit(
        "ps2_adaptive", "adam", '_check_range("lr", lr, 0.0, None)', 'if not lr > 0: raise ValueError("lr")'),
        ("test_adam_hidden",)),
    Mistake("ps2_adaptive", "momentum_one_accepted", "sgd_momentum", _edit(
        "ps2_adaptive", "sgd_momentum", '_check_range("momentum", momentum, 0.0, 1.0)',
        'if not 0 <= momentum <= 1: raise ValueError("momentum")'), ("test_invalid_arguments",)),
    Mistake("ps2_adaptive", "adagrad_eps_inside_sqrt", "adagrad", _edit(
        "ps2_adaptive", "adagrad", "np.sqrt(s) + eps", "np.sqrt(s + eps)"),
        ("test_adagrad_hidden",), also=("test_adagrad",)),
    Mistake("ps2_adaptive", "rmsprop_eps_inside_sqrt", "rmsprop", _edit(
        "ps2_adaptive", "rmsprop", "np.sqrt(s) + eps", "np.sqrt(s + eps)"),
        ("test_rmsprop_hidden",), also=("test_rmsprop",)),
    Mistake("ps2_adaptive", "rmsprop_default_rho_changed", "rmsprop", _edit(
        "ps2_adaptive", "rmsprop", "rho=0.99,", "rho=0.9,"), ("test_rmsprop",),
        also=("test_rmsprop_hidden",)),
    Mistake("ps2_adaptive", "shapes_not_checked", "adagrad", _edit(
        "ps2_adaptive", "adagrad", "    _check_arrays(params, grads)\n", ""),
        ("test_invalid_arguments",)),
    Mistake("ps3_tuning", "grid_accepts_low_equal_high", "lr_grid", _edit(
        "ps3_tuning", "lr_grid", "if not low < high:", "if not low <= high:"),
        ("test_lr_grid_hidden",)),
    Mistake("ps3_tuning", "log_uniform_rejects_size_zero", "log_uniform", _edit(
        "ps3_tuning", "log_uniform", "size >= 0", "size >= 1"), ("test_log_uniform_hidden",)),
    Mistake("ps3_tuning", "critical_lr_accepts_indefinite", "critical_lr", _edit(
        "ps3_tuning", "critical_lr", "if not eig[0] > 0:", "if not eig[-1] > 0:"),
        ("test_critical_lr_hidden",)),
    Mistake("ps3_tuning", "random_search_accepts_n_zero", "random_search", _edit(
        "ps3_tuning", "random_search", "n >= 1", "n >= 0"), ("test_random_search_hidden",)),
]

# A correct solution whose checked code triggers numpy warnings must keep full marks.
WARNING_SOLUTION = Mistake("ps1_schedules", "correct_with_overflow_warning", "my_schedule", '''
def my_schedule(step):
    # A diverging probe run (kept by a curious student): overflows, but the rate is right.
    probe = np.float64(10.0) ** np.arange(300, 320, dtype=float)
    return 0.5 * 0.5 ** (step // 40)
''', ())

MISTAKES = PS1 + PS2 + PS3 + EDGES


def planted(mistake: Mistake):
    """The solution notebook with ``mistake`` planted in it."""
    return with_cell(source_nb(mistake.assignment), mistake.cell, mistake.source)
