"""Record PyTorch's learning-rate schedulers, for tests/test_schedules.py to compare against.

Run with a Python that has torch (torch is never a dependency of lr_course or its tests):

    /root/torchenv/bin/python tests/reference/record_torch_schedules.py

It writes tests/reference/torch_schedules.json next to this file. Each case holds the torch
class name, its keyword arguments, the optimizer's starting lr and ``lrs``: ``lrs[k]`` is
``optimizer.param_groups[0]["lr"]`` after ``k`` calls to ``scheduler.step()``, the lr torch
uses at step ``k``. Schedulers are stepped the ordinary way (no epoch argument), so whatever
torch's chainable update produces is what gets recorded. Only torch's own numbers are stored
here; how they map onto lr_course's factories is the test's business.
"""

import json
import math
import pathlib
import warnings

# torch is imported inside the functions: pytest (--doctest-modules) imports this file while
# collecting, on machines without torch.
OUT = pathlib.Path(__file__).with_name("torch_schedules.json")

# (torch class, kwargs, starting lr, number of steps to record)
CASES = [
    ("StepLR", {"step_size": 30, "gamma": 0.1}, 0.1, 100),
    ("StepLR", {"step_size": 7, "gamma": 0.5}, 1.0, 60),
    ("StepLR", {"step_size": 1, "gamma": 0.9}, 0.3, 40),
    ("MultiStepLR", {"milestones": [30, 80], "gamma": 0.1}, 0.05, 120),
    ("MultiStepLR", {"milestones": [3, 3, 10], "gamma": 0.5}, 1.0, 20),
    ("ExponentialLR", {"gamma": 0.95}, 0.1, 200),
    ("ExponentialLR", {"gamma": 0.5}, 2.0, 50),
    ("PolynomialLR", {"total_iters": 50, "power": 1.0}, 0.1, 80),
    ("PolynomialLR", {"total_iters": 20, "power": 2.0}, 1.0, 30),
    ("PolynomialLR", {"total_iters": 13, "power": 0.5}, 0.7, 20),
    ("CosineAnnealingLR", {"T_max": 100, "eta_min": 0.0}, 0.1, 100),
    ("CosineAnnealingLR", {"T_max": 20, "eta_min": 0.001}, 0.1, 20),
    # Past T_max: torch keeps following the cosine (it climbs back up); ours holds eta_min.
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.0}, 1.0, 45),
    ("CosineAnnealingLR", {"T_max": 25, "eta_min": 0.01}, 0.5, 80),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 1, "eta_min": 0.0}, 0.1, 50),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 2, "eta_min": 0.01}, 1.0, 80),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 3, "eta_min": 0.0}, 0.2, 60),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 10,
                  "mode": "triangular"}, None, 70),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 1.0, "step_size_up": 4, "step_size_down": 7,
                  "mode": "triangular"}, None, 50),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 5,
                  "mode": "triangular2"}, None, 60),
    ("CyclicLR", {"base_lr": 0.0, "max_lr": 1.0, "step_size_up": 3, "step_size_down": 5,
                  "mode": "triangular2"}, None, 50),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 6, "mode": "exp_range",
                  "gamma": 0.99}, None, 80),
    ("CyclicLR", {"base_lr": 0.05, "max_lr": 0.5, "step_size_up": 2, "step_size_down": 9,
                  "mode": "exp_range", "gamma": 0.9}, None, 50),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 100}, None, 99),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 37, "pct_start": 0.25,
                    "anneal_strategy": "linear", "div_factor": 10.0,
                    "final_div_factor": 100.0}, None, 36),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 60, "pct_start": 0.3,
                    "three_phase": True}, None, 59),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 41, "pct_start": 0.2,
                    "anneal_strategy": "linear", "three_phase": True}, None, 40),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 15, "pct_start": 0.1}, None, 14),
    # LinearLR(start_factor=1/W, total_iters=W-1) is the course's linear warm-up.
    ("LinearLR", {"start_factor": 1 / 8, "end_factor": 1.0, "total_iters": 7}, 0.4, 20),
    ("LinearLR", {"start_factor": 1 / 3, "end_factor": 1.0, "total_iters": 2}, 1.0, 10),
]

# Metric sequences for ReduceLROnPlateau: improvement, plateaus, noise, a NaN, a max-mode run.
PLATEAU_METRICS = {
    "falling_then_flat": [10.0 / (k + 1) for k in range(15)] + [0.6] * 30,
    "noisy": [1.0 + 0.1 * math.sin(1.7 * k) + 0.5 / (k + 1) for k in range(60)],
    "tiny_gains": [1.0 - 1e-6 * k for k in range(20)] + [1.0 - 2e-5] * 20,
    "with_nan": [3.0, 2.0, float("nan"), float("nan"), 1.5, 1.5, 1.5, 1.5, 1.5, 1.5],
    "accuracy": [0.5, 0.6, 0.65, 0.66, 0.66, 0.661, 0.66, 0.65, 0.66, 0.66, 0.66, 0.66,
                 0.66, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7],
}
PLATEAU_CASES = [
    ({"factor": 0.1, "patience": 10}, 0.1, "falling_then_flat"),
    ({"factor": 0.5, "patience": 2}, 1.0, "falling_then_flat"),
    ({"factor": 0.5, "patience": 0, "cooldown": 2}, 1.0, "falling_then_flat"),
    ({"factor": 0.5, "patience": 3, "min_lr": 0.05}, 1.0, "noisy"),
    ({"factor": 0.3, "patience": 1, "threshold": 0.01, "threshold_mode": "abs",
      "cooldown": 1}, 0.2, "noisy"),
    ({"factor": 0.5, "patience": 2}, 1.0, "tiny_gains"),
    ({"factor": 0.5, "patience": 2, "threshold": 0.0}, 1.0, "tiny_gains"),
    ({"factor": 0.5, "patience": 1}, 1.0, "with_nan"),
    ({"mode": "max", "factor": 0.5, "patience": 2}, 0.1, "accuracy"),
    ({"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.005,
      "threshold_mode": "abs"}, 0.1, "accuracy"),
    ({"factor": 0.5, "patience": 1, "min_lr": 0.3, "eps": 0.1}, 1.0, "falling_then_flat"),
]


def _optimizer(lr):
    import torch

    # A single parameter; the optimizer is never used for anything but holding the lr.
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def record_case(name, kwargs, lr0, num_steps):
    from torch.optim import lr_scheduler

    opt = _optimizer(0.123 if lr0 is None else lr0)  # CyclicLR/OneCycleLR set their own lr
    extra = {"cycle_momentum": False} if name in ("CyclicLR", "OneCycleLR") else {}
    sched = getattr(lr_scheduler, name)(opt, **kwargs, **extra)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(num_steps):
        opt.step()  # keeps torch's "scheduler before optimizer" warning quiet
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return {"scheduler": name, "kwargs": kwargs, "lr0": lr0, "lrs": lrs}


def record_plateau(kwargs, lr0, metrics_name):
    from torch.optim import lr_scheduler

    opt = _optimizer(lr0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = []
    for metric in PLATEAU_METRICS[metrics_name]:
        opt.step()
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    return {"scheduler": "ReduceLROnPlateau", "kwargs": kwargs, "lr0": lr0,
            "metrics": PLATEAU_METRICS[metrics_name], "lrs": lrs}


def main():
    import torch

    warnings.simplefilter("error")  # a deprecation or misuse warning would mean a bad trace
    cases = [record_case(*case) for case in CASES]
    cases += [record_plateau(*case) for case in PLATEAU_CASES]
    data = {
        "about": "lr used at step k by torch.optim.lr_scheduler (lrs[k]); "
                 "written by tests/reference/record_torch_schedules.py",
        "torch_version": torch.__version__,
        "cases": cases,
    }
    # allow_nan: the NaN metrics are part of the record (json writes them as NaN).
    OUT.write_text(json.dumps(data, indent=1, allow_nan=True) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
