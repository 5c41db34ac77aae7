"""Teaching text and solutions of the source notebooks (read by build_source.py).

Each part is one graded function (a solution cell followed by its test cells, named by
grade_id in the registry) or, in ps3, a hand-graded written answer whose model answer and
rubric sit inside the solution region (removed from the student's release).
"""

_STEP = '''\
def _check_step(step):
    """Return step as an integer array, or raise ValueError for a negative/non-integer step."""
    arr = np.asarray(step)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"step must be an int or an integer array, got {step!r}")
    if np.any(arr < 0):
        raise ValueError(f"step must be >= 0, got {step!r}")
    return arr


def _as_result(value, step):
    """A float for a single step, a float array of step's shape otherwise."""
    value = np.asarray(value, dtype=float)
    return float(value) if np.ndim(step) == 0 else value
'''

PS1 = {
    "intro": """# Problem set 1: learning-rate schedules

A schedule is a pure function of the step: it takes `step` (an int >= 0, counting from 0, or
an integer numpy array of steps) and returns the learning rate (a float, or a float array of
the same shape). Write each schedule from its formula, in plain numpy.

Rules for every function:
- inputs are never modified;
- an invalid hyper-parameter, or a negative step, raises `ValueError` with a message that
  names the argument and its value.

Each function is followed by a **self-check** cell: run it to see what was checked and, when
something is wrong, a hint. More (hidden) tests run when your work is graded: edge cases,
arrays of steps, invalid arguments. Run `lr-course check ps1_schedules.ipynb` for a full local
report before you submit.""",
    "setup": "import numpy as np",
    "parts": [
        {"id": "step_decay", "tests": ["test_step_decay", "test_step_decay_hidden"],
         "text": """## 1. Step decay

$\\text{lr} = \\text{lr0} \\cdot \\text{factor}^{\\lfloor \\text{step} / \\text{drop\\_every} \\rfloor}$,
with `drop_every >= 1` and `0 < factor <= 1`. The rate is constant between drops.
The helpers `_check_step` and `_as_result` are yours to use in every schedule.""",
         "solution": _STEP + '''

def step_decay(lr0, step, drop_every, factor=0.5):
    """lr0 * factor ** floor(step / drop_every)."""
    ### BEGIN SOLUTION
    if drop_every < 1:
        raise ValueError(f"drop_every must be >= 1, got {drop_every}")
    if not 0 < factor <= 1:
        raise ValueError(f"factor must be in (0, 1], got {factor}")
    t = _check_step(step)
    return _as_result(lr0 * factor ** (t // drop_every), step)
    ### END SOLUTION'''},
        {"id": "exponential_decay", "tests": ["test_exponential_decay",
                                              "test_exponential_decay_hidden"],
         "text": """## 2. Exponential decay

$\\text{lr} = \\text{lr0} \\cdot \\text{decay\\_rate}^{\\text{step} / \\text{decay\\_steps}}$, the
exponent floored when `staircase=True`; `0 < decay_rate <= 1`, `decay_steps > 0`. Without the
staircase the ratio of consecutive rates is constant.""",
         "solution": '''def exponential_decay(lr0, step, decay_rate, decay_steps, staircase=False):
    """lr0 * decay_rate ** (step / decay_steps), the exponent floored when staircase."""
    ### BEGIN SOLUTION
    if not 0 < decay_rate <= 1:
        raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate}")
    if not decay_steps > 0:
        raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _check_step(step)
    exponent = t / decay_steps
    if staircase:
        exponent = np.floor(exponent)
    return _as_result(lr0 * decay_rate ** exponent, step)
    ### END SOLUTION'''},
        {"id": "inverse_time_decay", "tests": ["test_inverse_time_decay",
                                               "test_inverse_time_decay_hidden"],
         "text": """## 3. Inverse-time decay

$\\text{lr} = \\text{lr0} / (1 + \\text{decay\\_rate} \\cdot \\text{step} / \\text{decay\\_steps})$,
with `step / decay_steps` floored when `staircase=True`; `decay_rate >= 0`.""",
         "solution": '''def inverse_time_decay(lr0, step, decay_rate, decay_steps=1, staircase=False):
    """lr0 / (1 + decay_rate * step / decay_steps), floored when staircase."""
    ### BEGIN SOLUTION
    if not decay_rate >= 0:
        raise ValueError(f"decay_rate must be >= 0, got {decay_rate}")
    if not decay_steps > 0:
        raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
    t = _check_step(step)
    ratio = t / decay_steps
    if staircase:
        ratio = np.floor(ratio)
    return _as_result(lr0 / (1 + decay_rate * ratio), step)
    ### END SOLUTION'''},
        {"id": "cosine_decay", "tests": ["test_cosine_decay", "test_cosine_decay_hidden"],
         "text": """## 4. Cosine decay

$\\text{lr} = \\text{lr\\_min} + (\\text{lr0} - \\text{lr\\_min}) \\cdot
(1 + \\cos(\\pi \\cdot \\min(\\text{step}, T) / T)) / 2$ with $T$ = `total_steps` and
`0 <= lr_min <= lr0`. After `total_steps` the rate **holds** `lr_min` (as in optax and
Keras; PyTorch's `CosineAnnealingLR` would climb back up).""",
         "solution": '''def cosine_decay(lr0, step, total_steps, lr_min=0.0):
    """lr_min + (lr0 - lr_min) * (1 + cos(pi * min(step, total_steps) / total_steps)) / 2."""
    ### BEGIN SOLUTION
    if not total_steps >= 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0 <= lr_min <= lr0:
        raise ValueError(f"lr_min must be in [0, lr0], got {lr_min}")
    t = np.minimum(_check_step(step), total_steps)
    return _as_result(lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t / total_steps)) / 2, step)
    ### END SOLUTION'''},
        {"id": "linear_warmup", "tests": ["test_linear_warmup", "test_linear_warmup_hidden"],
         "text": """## 5. Linear warm-up

$\\text{lr} = \\text{lr\\_peak} \\cdot \\min(1, (\\text{step} + 1) / \\text{warmup\\_steps})$,
`warmup_steps >= 1`. The first step (step 0) already uses a non-zero rate.""",
         "solution": '''def linear_warmup(lr_peak, step, warmup_steps):
    """lr_peak * min(1, (step + 1) / warmup_steps)."""
    ### BEGIN SOLUTION
    if not warmup_steps >= 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
    t = _check_step(step)
    return _as_result(lr_peak * np.minimum(1.0, (t + 1) / warmup_steps), step)
    ### END SOLUTION'''},
        {"id": "my_schedule", "tests": ["test_my_schedule", "test_my_schedule_hidden"],
         "text": """## 6. Applied: beat every constant learning rate

SGD runs on a noisy quadratic: $f(x) = \\tfrac12 \\sum_i \\lambda_i x_i^2$ with
$\\lambda = (1, 0.5, 0.25, 0.1)$, start $x_0 = (4, 4, 4, 4)$, and gradients with
Gaussian noise of standard deviation $\\sigma = 1$. The budget is **200 steps**; the target is
an **expected loss <= 0.09**. No constant learning rate reaches it (the best constant rate ends
near 0.11: a large rate gets close fast but stalls at a noise floor that grows with the rate;
a small one is too slow). Write `my_schedule(step) -> lr` (step = 0, 1, ..., 199) so that SGD
reaches the target; it is graded by running SGD with many seeds.""",
         "solution": '''def my_schedule(step):
    """The learning rate of SGD at ``step`` on the noisy quadratic."""
    ### BEGIN SOLUTION
    # Large (below 2/L = 2) while far away, then halve every 40 steps to lower the noise floor.
    return 0.5 * 0.5 ** (step // 40)
    ### END SOLUTION'''},
    ],
}

_P = "params, grads, state"

PS2 = {
    "intro": """# Problem set 2: adaptive methods

Implement four optimizers as `init(params) -> state` and
`update(params, grads, state, ...) -> (new_params, new_state)` pairs, in plain numpy.
`params` and `grads` are float arrays of the same shape (any shape); `state` is a dict with
exactly the keys given below. An update **modifies neither its inputs nor `state`**: it builds
new arrays and a new dict. Invalid hyper-parameters (for example a negative `lr`, or `beta1`
outside [0, 1)) raise `ValueError` naming the argument.

Run the self-check cell after each optimizer; hidden tests also try other shapes, states you
did not create, gradient rescaling and invalid arguments.""",
    "setup": "import numpy as np",
    "parts": [
        {"id": "sgd_momentum", "tests": ["test_sgd_momentum", "test_sgd_momentum_hidden"],
         "text": """## 1. SGD with momentum (heavy ball, PyTorch's convention)

State `{"velocity": zeros}`. $v \\leftarrow \\text{momentum}\\, v + g$;
$p \\leftarrow p - \\text{lr}\\, v$.""",
         "solution": '''def sgd_momentum_init(params):
    ### BEGIN SOLUTION
    return {"velocity": np.zeros_like(params, dtype=float)}
    ### END SOLUTION


def sgd_momentum_update(params, grads, state, lr=0.01, momentum=0.9):
    ### BEGIN SOLUTION
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    v = momentum * state["velocity"] + grads
    return params - lr * v, {"velocity": v}
    ### END SOLUTION'''},
        {"id": "adagrad", "tests": ["test_adagrad", "test_adagrad_hidden"],
         "text": """## 2. Adagrad

State `{"sum_sq": zeros}`. $s \\leftarrow s + g^2$;
$p \\leftarrow p - \\text{lr}\\, g / (\\sqrt{s} + \\epsilon)$.""",
         "solution": '''def adagrad_init(params):
    ### BEGIN SOLUTION
    return {"sum_sq": np.zeros_like(params, dtype=float)}
    ### END SOLUTION


def adagrad_update(params, grads, state, lr=0.01, eps=1e-10):
    ### BEGIN SOLUTION
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    s = state["sum_sq"] + grads**2
    return params - lr * grads / (np.sqrt(s) + eps), {"sum_sq": s}
    ### END SOLUTION'''},
        {"id": "rmsprop", "tests": ["test_rmsprop", "test_rmsprop_hidden"],
         "text": """## 3. RMSprop

State `{"avg_sq": zeros}`. $s \\leftarrow \\rho\\, s + (1 - \\rho)\\, g^2$;
$p \\leftarrow p - \\text{lr}\\, g / (\\sqrt{s} + \\epsilon)$. Multiplying every gradient by a
constant leaves the path (almost) unchanged: check why.""",
         "solution": '''def rmsprop_init(params):
    ### BEGIN SOLUTION
    return {"avg_sq": np.zeros_like(params, dtype=float)}
    ### END SOLUTION


def rmsprop_update(params, grads, state, lr=0.01, rho=0.99, eps=1e-8):
    ### BEGIN SOLUTION
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    s = rho * state["avg_sq"] + (1 - rho) * grads**2
    return params - lr * grads / (np.sqrt(s) + eps), {"avg_sq": s}
    ### END SOLUTION'''},
        {"id": "adam", "tests": ["test_adam", "test_adam_hidden", "test_inputs_unchanged",
                                 "test_invalid_arguments"],
         "text": """## 4. Adam (Kingma & Ba, 2015)

State `{"m": zeros, "v": zeros, "t": 0}`. $t \\leftarrow t + 1$;
$m \\leftarrow \\beta_1 m + (1 - \\beta_1) g$; $v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2$;
$p \\leftarrow p - \\text{lr}\\, \\frac{m / (1 - \\beta_1^t)}{\\sqrt{v / (1 - \\beta_2^t)} + \\epsilon}$.
Thanks to the bias correction the first step is about `lr * sign(g)`.""",
         "solution": '''def adam_init(params):
    ### BEGIN SOLUTION
    return {"m": np.zeros_like(params, dtype=float), "v": np.zeros_like(params, dtype=float),
            "t": 0}
    ### END SOLUTION


def adam_update(params, grads, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    ### BEGIN SOLUTION
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * grads
    v = beta2 * state["v"] + (1 - beta2) * grads**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}
    ### END SOLUTION'''},
        {"id": "adam_digits", "tests": ["test_adam_digits"], "demo": True,
         "text": """## 5. Applied: train a real model with your Adam

The grader trains multinomial logistic regression on the course's handwritten digits
(`lr_course.models.LogisticRegression()`, 8x8 images, 10 classes) with **your**
`adam_init`/`adam_update`, `lr=0.01`, minibatches of 64 drawn with a seed, for 300 steps, and
asks for **at least 93% validation accuracy**. Plain SGD with the same rate stays near 91%.
You can try it yourself below (the graded run uses its own seeds).""",
         "solution": '''from lr_course import models

model = models.LogisticRegression()
rng = np.random.default_rng(0)
params, state = model.x0, adam_init(model.x0)
for step in range(300):
    batch = rng.choice(model.num_train, size=64, replace=False)
    _, grads = model.loss_and_grad(params, batch=batch)
    params, state = adam_update(params, grads, state, lr=0.01)
print("validation accuracy:", model.evaluate(params, split="val")[1])'''},
    ],
}

PS3 = {
    "intro": """# Problem set 3: tuning the learning rate, and review

Write the tools of a learning-rate search in plain numpy, then answer the three review
questions of the course in your own words, with evidence from your own experiments.
Invalid arguments raise `ValueError` naming the argument. Randomness comes only from the
`numpy.random.Generator` passed in as `rng` (never the global `np.random`).""",
    "setup": "import math\n\nimport numpy as np",
    "parts": [
        {"id": "lr_grid", "tests": ["test_lr_grid", "test_lr_grid_hidden"],
         "text": """## 1. A log-scale grid

`lr_grid(low, high, num)`: `num` geometrically spaced values from `low` to `high`, both
included; `0 < low < high`, `num >= 2`.""",
         "solution": '''def lr_grid(low, high, num):
    ### BEGIN SOLUTION
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    if not (isinstance(num, (int, np.integer)) and num >= 2):
        raise ValueError(f"num must be an int >= 2, got {num}")
    return np.geomspace(low, high, num)
    ### END SOLUTION'''},
        {"id": "log_uniform", "tests": ["test_log_uniform", "test_log_uniform_hidden"],
         "text": """## 2. Log-uniform samples

`log_uniform(low, high, size, rng)`: `size` samples on `[low, high)` whose logarithm is
uniform, drawn from `rng`.""",
         "solution": '''def log_uniform(low, high, size, rng):
    ### BEGIN SOLUTION
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    return np.exp(rng.uniform(math.log(low), math.log(high), size))
    ### END SOLUTION'''},
        {"id": "critical_lr", "tests": ["test_critical_lr", "test_critical_lr_hidden"],
         "text": """## 3. The critical learning rate

Gradient descent on a quadratic with Hessian $H$ converges iff $0 < \\text{lr} < 2/\\lambda_{max}(H)$.
`critical_lr(hessian)` returns $2 / \\lambda_{max}$ for a symmetric positive-definite matrix.""",
         "solution": '''def critical_lr(hessian):
    ### BEGIN SOLUTION
    return 2.0 / np.linalg.eigvalsh(np.asarray(hessian, dtype=float))[-1]
    ### END SOLUTION'''},
        {"id": "grid_search", "tests": ["test_grid_search", "test_grid_search_hidden"],
         "text": """## 4. Grid search

`grid_search(objective, lrs) -> (best_lr, scores)` with `scores[i] = objective(lrs[i])`
(lower is better; call the objective once per rate). A NaN or inf score means the run diverged:
it is never best.""",
         "solution": '''def grid_search(objective, lrs):
    ### BEGIN SOLUTION
    scores = np.array([objective(lr) for lr in lrs], dtype=float)
    best = int(np.argmin(np.where(np.isfinite(scores), scores, np.inf)))
    return lrs[best], scores
    ### END SOLUTION'''},
        {"id": "random_search", "tests": ["test_random_search", "test_random_search_hidden"],
         "text": """## 5. Random search

`random_search(objective, low, high, n, rng) -> (best_lr, lrs, scores)` over `n` log-uniform
samples (use your `log_uniform` and `grid_search`).""",
         "solution": '''def random_search(objective, low, high, n, rng):
    ### BEGIN SOLUTION
    lrs = log_uniform(low, high, n, rng)
    best, scores = grid_search(objective, lrs)
    return best, lrs, scores
    ### END SOLUTION'''},
        {"id": "answer_convergence", "points": 3,
         "text": """## 6. Review question 1 (hand-graded)

How does the choice of learning rate change convergence during training? Answer in a few
sentences with evidence you produced (numbers or a figure from the lessons or above).""",
         "manual": """### BEGIN SOLUTION
**Model answer.** Below about 1/L the iterates approach the minimum monotonically, but a very
small rate needs many steps (the error shrinks by 1 - lr*mu per step). Between 1/L and 2/L the
stiff directions oscillate but still converge; above 2/L (= `critical_lr`) the loss diverges.
The fastest constant rate on a quadratic is 2/(mu + L).

**Rubric (3 points).** 1 point: slow convergence for small rates and divergence above a
threshold; 1 point: names the threshold 2/L (largest curvature) or the oscillating regime;
1 point: cites evidence the student produced (a measured number or figure).
### END SOLUTION"""},
        {"id": "answer_strategies", "points": 3,
         "text": """## 7. Review question 2 (hand-graded)

What are the common strategies for adjusting the learning rate during training, and how do
they help?""",
         "manual": """### BEGIN SOLUTION
**Model answer.** Schedules (step, exponential, inverse-time, cosine, warm-up, cyclical,
reduce-on-plateau) start large to make fast progress and decay to remove the noise floor of
SGD; warm-up avoids early instability. Adaptive methods (momentum, Adagrad, RMSprop, Adam)
scale the step per parameter; Adam's step is invariant to gradient scale but its base rate
still needs tuning.

**Rubric (3 points).** 1 point: at least two schedules, correctly described; 1 point: why decay
helps (noise floor / fine convergence) or why warm-up helps; 1 point: adaptive methods and what
they do not solve (base lr still tuned).
### END SOLUTION"""},
        {"id": "answer_cost", "points": 3,
         "text": """## 8. Review question 3 (hand-graded)

What does an inappropriate learning rate cost, in training efficiency and in final accuracy on
unseen data?""",
         "manual": """### BEGIN SOLUTION
**Model answer.** Too small: many more steps and wall-clock time for the same accuracy (or a
worse model within a fixed budget). Too large: oscillation, divergence (wasted runs), or a
constant rate that stalls at a higher noise floor, lowering validation accuracy. Tuning on a
validation split, over seeds, measures the cost honestly.

**Rubric (3 points).** 1 point: efficiency cost of too small; 1 point: accuracy cost of too
large (noise floor or divergence); 1 point: refers to validation (unseen) data and evidence.
### END SOLUTION"""},
    ],
}

ASSIGNMENT_TEXT = {"ps1_schedules": PS1, "ps2_adaptive": PS2, "ps3_tuning": PS3}
