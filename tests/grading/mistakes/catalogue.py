"""Planted mistakes: each replaces one solution cell and must lose the points of named tests.

A mistake is ``(assignment, name, cell grade_id, new cell source, tests it must fail)``.
The other tests of the assignment must still pass (the mistake is caught where it should be,
and nowhere else by accident), except those listed in ``also``.
"""

import copy
import importlib.util
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
    """The step helpers of ps1's solution cells, as the source notebook has them."""
    path = Path(__file__).resolve().parents[3] / "autograder" / "source_text.py"
    spec = importlib.util.spec_from_file_location("ps_source_text", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._STEP


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
    if drop_every < 1: raise ValueError(f"drop_every must be >= 1, got {drop_every}")
    if not 0 < factor <= 1: raise ValueError(f"factor must be in (0, 1], got {factor}")
    t = _check_step(step)
    return _as_result(lr0 * factor ** (t / drop_every), step)
''', ("test_step_decay", "test_step_decay_hidden")),
    Mistake("ps1_schedules", "step_decay_scalar_only", "step_decay", HELPERS + '''
def step_decay(lr0, step, drop_every, factor=0.5):
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
    if not 0 < decay_rate <= 1: raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate}")
    if not decay_steps > 0: raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _check_step(step)
    return _as_result(lr0 * decay_rate ** (t / decay_steps), step)
''', ("test_exponential_decay",), also=("test_exponential_decay_hidden",)),
    Mistake("ps1_schedules", "exponential_modifies_step", "exponential_decay", '''
def exponential_decay(lr0, step, decay_rate, decay_steps, staircase=False):
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
    if not 0 <= lr_min <= lr0: raise ValueError(f"lr_min must be in [0, lr0], got {lr_min}")
    t = _check_step(step)
    return _as_result(lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t / total_steps)) / 2, step)
''', ("test_cosine_decay_hidden",)),
    Mistake("ps1_schedules", "warmup_off_by_one", "linear_warmup", '''
def linear_warmup(lr_peak, step, warmup_steps):
    if not warmup_steps >= 1: raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    t = _check_step(step)
    return _as_result(lr_peak * np.minimum(1.0, t / warmup_steps), step)
''', ("test_linear_warmup",), also=("test_linear_warmup_hidden",)),
    Mistake("ps1_schedules", "inverse_time_staircase_ignored", "inverse_time_decay", '''
def inverse_time_decay(lr0, step, decay_rate, decay_steps=1, staircase=False):
    if not decay_rate >= 0: raise ValueError(f"decay_rate must be >= 0, got {decay_rate}")
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
    if not lr > 0: raise ValueError(f"lr must be > 0, got {{lr}}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1: raise ValueError(f"{{name}} must be in [0, 1), got {{beta}}")
    if not eps > 0: raise ValueError(f"eps must be > 0, got {{eps}}")
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
    if not lr > 0: raise ValueError(f"lr must be > 0, got {lr}")
    if not 0 <= momentum < 1: raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    v = momentum * state["velocity"] + (1 - momentum) * grads
    return params - lr * v, {"velocity": v}
''', ("test_sgd_momentum", "test_sgd_momentum_hidden")),
    Mistake("ps2_adaptive", "adagrad_forgets", "adagrad", '''
def adagrad_init(params):
    return {"sum_sq": np.zeros_like(params, dtype=float)}


def adagrad_update(params, grads, state, lr=0.01, eps=1e-10):
    if not lr > 0: raise ValueError(f"lr must be > 0, got {lr}")
    if not eps > 0: raise ValueError(f"eps must be > 0, got {eps}")
    s = grads**2
    return params - lr * grads / (np.sqrt(s) + eps), {"sum_sq": state["sum_sq"] + s}
''', ("test_adagrad", "test_adagrad_hidden")),
    Mistake("ps2_adaptive", "rmsprop_1d_only", "rmsprop", '''
def rmsprop_init(params):
    return {"avg_sq": np.zeros(len(params))}


def rmsprop_update(params, grads, state, lr=0.01, rho=0.99, eps=1e-8):
    if not lr > 0: raise ValueError(f"lr must be > 0, got {lr}")
    if not 0 <= rho < 1: raise ValueError(f"rho must be in [0, 1), got {rho}")
    if not eps > 0: raise ValueError(f"eps must be > 0, got {eps}")
    s = np.array([rho * state["avg_sq"][i] + (1 - rho) * float(grads[i]) ** 2 for i in range(len(params))])
    new = [float(params[i]) - lr * float(grads[i]) / (np.sqrt(s[i]) + eps) for i in range(len(params))]
    return np.array(new), {"avg_sq": s}
''', ("test_rmsprop_hidden",)),
]

PS3 = [
    Mistake("ps3_tuning", "grid_linear", "lr_grid", '''
def lr_grid(low, high, num):
    if not 0 < low < high: raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    if num < 2: raise ValueError(f"num must be >= 2, got {num}")
    return np.linspace(low, high, num)
''', ("test_lr_grid", "test_lr_grid_hidden")),
    Mistake("ps3_tuning", "grid_excludes_high", "lr_grid", '''
def lr_grid(low, high, num):
    if not 0 < low < high: raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    if num < 2: raise ValueError(f"num must be >= 2, got {num}")
    return np.geomspace(low, high, num, endpoint=False)
''', ("test_lr_grid", "test_lr_grid_hidden")),
    Mistake("ps3_tuning", "grid_no_valueerror", "lr_grid", '''
def lr_grid(low, high, num):
    return np.geomspace(low, high, num)
''', ("test_lr_grid_hidden",)),
    Mistake("ps3_tuning", "uniform_not_log", "log_uniform", '''
def log_uniform(low, high, size, rng):
    if not 0 < low < high: raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    return rng.uniform(low, high, size)
''', ("test_log_uniform", "test_random_search_hidden")),
    Mistake("ps3_tuning", "global_random_state", "log_uniform", '''
def log_uniform(low, high, size, rng):
    if not 0 < low < high: raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    return np.exp(np.random.uniform(math.log(low), math.log(high), size))
''', ("test_log_uniform_hidden", "test_random_search_hidden")),
    Mistake("ps3_tuning", "critical_one_over_lambda", "critical_lr", '''
def critical_lr(hessian):
    return 1.0 / np.linalg.eigvalsh(hessian)[-1]
''', ("test_critical_lr", "test_critical_lr_hidden")),
    Mistake("ps3_tuning", "critical_max_diagonal", "critical_lr", '''
def critical_lr(hessian):
    return 2.0 / np.max(np.diag(hessian))
''', ("test_critical_lr", "test_critical_lr_hidden")),
    Mistake("ps3_tuning", "grid_search_picks_nan", "grid_search", '''
def grid_search(objective, lrs):
    scores = np.array([objective(lr) for lr in lrs], dtype=float)
    return lrs[int(np.argmin(scores))], scores
''', ("test_grid_search_hidden",), also=("test_random_search_hidden",)),
    Mistake("ps3_tuning", "random_search_ignores_rng", "random_search", '''
def random_search(objective, low, high, n, rng):
    lrs = log_uniform(low, high, n, np.random.default_rng())
    best, scores = grid_search(objective, lrs)
    return best, lrs, scores
''', ("test_random_search_hidden",)),
]

# A correct solution whose checked code triggers numpy warnings must keep full marks.
WARNING_SOLUTION = Mistake("ps1_schedules", "correct_with_overflow_warning", "my_schedule", '''
def my_schedule(step):
    # A diverging probe run (kept by a curious student): overflows, but the rate is right.
    probe = np.float64(10.0) ** np.arange(300, 320, dtype=float)
    return 0.5 * 0.5 ** (step // 40)
''', ())

MISTAKES = PS1 + PS2 + PS3


def planted(mistake: Mistake):
    """The solution notebook with ``mistake`` planted in it."""
    return with_cell(source_nb(mistake.assignment), mistake.cell, mistake.source)
