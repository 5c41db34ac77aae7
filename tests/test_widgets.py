"""The explorers: they build, updates redraw the one figure in place, and they work headless."""

import base64

import matplotlib.figure
import numpy as np
import pytest

from lr_course import widgets
from lr_course.widgets._view import FrameRenderer, encode_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def count_figures(monkeypatch):
    """Count every matplotlib Figure created while the test runs."""
    created = []
    original = matplotlib.figure.Figure.__init__

    def counting_init(self, *args, **kwargs):
        created.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "__init__", counting_init)
    return created


def count_full_draws(monkeypatch, figure):
    """Count full redraws of ``figure``'s canvas (the slow path that blitting avoids)."""
    calls = []
    original = figure.canvas.draw

    def counting_draw(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(figure.canvas, "draw", counting_draw)
    return calls


def decoded_pixels(png):
    from PIL import Image
    import io

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# --- the shared machinery -------------------------------------------------------------------


def test_encode_png_round_trips_pixels():
    rgba = np.zeros((5, 7, 4), dtype=np.uint8)
    rgba[..., 0] = np.arange(7) * 30
    rgba[..., 3] = 255
    png = encode_png(rgba)
    assert png.startswith(PNG_MAGIC)
    assert np.array_equal(decoded_pixels(png), rgba[..., :3])


def test_blitted_frame_matches_a_full_redraw():
    from lr_course.widgets._view import new_figure

    fig = new_figure(3, 2)
    ax = fig.add_subplot()
    ax.set(xlim=(0, 1), ylim=(0, 1))
    (line,) = ax.plot([0, 1], [0, 1], animated=True)
    frames = FrameRenderer(fig)
    frames.render()
    line.set_data([0, 1], [1, 0])
    blitted = decoded_pixels(frames.render())
    frames.invalidate()
    full = decoded_pixels(frames.render())
    assert np.array_equal(blitted, full)
    line.set_data([0, 1], [0.5, 0.5])
    assert not np.array_equal(decoded_pixels(frames.render()), full)


def test_lazy_package_names_everything_it_exports():
    import importlib

    names = dir(widgets)
    assert names == sorted(widgets._WHERE) and len(names) == 12
    for name in names:
        module = importlib.import_module(f"lr_course.widgets.{widgets._WHERE[name]}")
        assert getattr(widgets, name) is getattr(module, name), name
    with pytest.raises(AttributeError, match="no_such_explorer"):
        widgets.no_such_explorer


def test_the_package_imports_an_explorer_only_when_asked():
    import subprocess
    import sys

    code = ("import sys, lr_course.widgets as w; before = sorted(m for m in sys.modules "
            "if m.startswith('lr_course.widgets.')); w.search_explorer; "
            "after = sorted(m for m in sys.modules if m.startswith('lr_course.widgets.')); "
            "print(before, after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "['lr_course.widgets._view',", "'lr_course.widgets.search']"]


# --- step size ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def step_size():
    return widgets.step_size_explorer(mu=1.0, L=10.0)


@pytest.mark.parametrize(
    "lr, regime",
    [(0.02, "monotone"), (0.1, "monotone"), (0.12, "oscillating"), (0.19, "oscillating"),
     (0.2, "marginal"), (0.21, "diverging"), (0.29, "diverging")],
)
def test_step_size_regime_label_in_each_range(step_size, lr, regime):
    explorer = step_size
    explorer.update(lr=lr)
    assert explorer.regime == regime
    assert regime in explorer.label.value


def test_step_size_iterates_follow_the_regime():
    explorer = widgets.step_size_explorer(lr=0.05)  # 1/L = 0.1
    x = explorer.path_1d[:, 0]
    assert np.all(np.diff(x) < 0) and np.all(x > 0)  # monotone: shrinks, never crosses 0
    explorer.update(lr=0.15)
    x = explorer.path_1d[:, 0]
    assert np.all(np.sign(x[1:]) == -np.sign(x[:-1]))  # oscillating: flips sign every step
    assert abs(x[-1]) < abs(x[0])
    explorer.update(lr=0.25)
    assert abs(explorer.path_1d[-1, 0]) > 1e3 and explorer.loss_2d[-1] > explorer.loss_2d[0]


def test_step_size_update_changes_drawn_data_and_frame(count_figures, monkeypatch):
    explorer = widgets.step_size_explorer(lr=0.05)
    figure = explorer.figure
    assert len(count_figures) == 1
    draws = count_full_draws(monkeypatch, figure)
    before_png = explorer.png()
    before_line = np.array(explorer._line_2d.get_xydata())
    for lr in np.geomspace(explorer.lr_low, explorer.lr_high, 12):
        explorer.update(lr=lr)
    assert explorer.figure is figure and len(count_figures) == 1  # no new figure per move
    assert draws == []  # only the moving artists were repainted
    assert not np.array_equal(explorer._line_2d.get_xydata(), before_line)
    assert explorer.png() != before_png


def test_step_size_slider_drives_update():
    explorer = widgets.step_size_explorer(lr=0.05)
    explorer.slider.value = 0.25
    assert explorer.lr == pytest.approx(0.25) and explorer.regime == "diverging"


@pytest.mark.parametrize(
    "kwargs, word",
    [({"lr": 10.0}, "lr"), ({"lr": -1.0}, "lr"), ({"mu": 0.0}, "mu"), ({"L": 0.5}, "L"),
     ({"num_steps": 0}, "num_steps"), ({"num_steps": 2.5}, "num_steps")],
)
def test_step_size_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        widgets.step_size_explorer(**kwargs)


def test_step_size_update_rejects_lr_off_the_slider():
    explorer = widgets.step_size_explorer()
    with pytest.raises(ValueError, match="lr must be in"):
        explorer.update(lr=float("nan"))


# --- headless display -----------------------------------------------------------------------


def test_display_bundle_carries_widget_and_static_png():
    explorer = widgets.step_size_explorer()
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == explorer.png()
    assert explorer.png().startswith(PNG_MAGIC)
    assert "StepSizeExplorer" in bundle["text/plain"]


# --- optimizer race -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def race():
    return widgets.optimizer_race("ill_conditioned", ["sgd", "momentum", "adam"],
                                  {"sgd": 0.1}, num_steps=60)


def test_race_lr_change_reruns_only_that_racer(race, monkeypatch):
    draws = count_full_draws(monkeypatch, race.figure)
    before = {r: h for r, h in race.histories.items()}
    png = race.png()
    race.update(lrs={"sgd": 0.25})  # past 2/L = 0.2 on the ill-conditioned bowl
    assert race.histories["sgd"] is not before["sgd"]
    assert race.histories["adam"] is before["adam"]
    assert race.histories["sgd"].diverged
    assert "diverged" in race.status.value
    assert race.png() != png and draws == []
    race.update(lrs={"sgd": 0.1})
    assert not race.histories["sgd"].diverged


def test_race_step_shows_a_prefix_without_recomputing(race):
    histories = dict(race.histories)
    race.update(step=5)
    x, y = race._paths["adam"].get_data()
    assert len(x) == 6
    assert np.allclose(np.column_stack([x, y]), race.histories["adam"].params[:6])
    race.step_slider.value = 60  # the slider drives update
    assert race.step == 60 and len(race._paths["adam"].get_xdata()) == 61
    assert all(race.histories[r] is histories[r] for r in histories)


def test_race_surface_change_redraws_contours_same_figure(race, count_figures):
    figure = race.figure
    png = race.png()
    race.surface_menu.value = "himmelblau"
    assert race.surface == "himmelblau" and race.figure is figure and count_figures == []
    assert race.png() != png
    assert race.histories["adam"].params[0].tolist() == race.problem.x0.tolist()
    race.update(surface="ill_conditioned")


@pytest.mark.parametrize(
    "args, word",
    [(("nowhere", ["sgd"]), "surface"), (("saddle", ["sgd", "lbfgs"]), "optimizers"),
     (("saddle", []), "optimizers"), (("saddle", ["sgd", "sgd"]), "repeat"),
     (("saddle", ["sgd"], {"sgd": 5.0}), "lr"), (("saddle", ["sgd"], {"adam": 0.1}), "lrs")],
)
def test_race_bad_arguments(args, word):
    with pytest.raises(ValueError, match=word):
        widgets.optimizer_race(*args, num_steps=5)


def test_race_bad_updates(race):
    with pytest.raises(ValueError, match="step"):
        race.update(step=61)
    with pytest.raises(ValueError, match="racer"):
        race.update(lrs={"rmsprop": 0.1})


# --- schedule designer ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def designer():
    return widgets.schedule_designer("cosine_decay", {"lr0": 0.5}, num_runs=100, num_steps=200)


def test_designer_decay_beats_the_noise_floor_constant_sits_on_it(designer):
    tail = slice(-20, None)
    assert np.mean(designer.mean_loss[tail]) < 0.2 * designer.floor
    # The constant rate's runs settle at the predicted floor (200 runs: within ~25%).
    assert np.mean(designer.constant_mean_loss[tail]) == pytest.approx(designer.floor, rel=0.25)
    designer.update(schedule="constant")
    assert np.array_equal(designer.mean_loss, designer.constant_mean_loss)
    designer.update(schedule="cosine_decay")


def test_designer_updates_in_place_and_shows_only_used_knobs(designer, monkeypatch,
                                                            count_figures):
    draws = count_full_draws(monkeypatch, designer.figure)
    png, curve = designer.png(), designer._lr_line.get_ydata().copy()
    designer.controls["lr_min"].value = 0.05  # as the slider does
    assert designer.params["lr_min"] == pytest.approx(0.05)
    assert not np.array_equal(designer._lr_line.get_ydata(), curve)
    assert designer.png() != png
    designer.menu.value = "step_decay"
    assert designer.schedule_name == "step_decay"
    assert designer.controls["drop_every"].layout.display is None
    assert designer.controls["lr_min"].layout.display == "none"
    assert designer.controls["lr0"].layout.display is None
    assert draws == [] and count_figures == []
    designer.update(schedule="cosine_decay", lr_min=1e-3)


@pytest.mark.parametrize(
    "kwargs, word",
    [({"schedule": "sawtooth"}, "schedule"), ({"lr0": 5.0}, "lr0"), ({"drop_every": 2.5}, "drop_every"),
     ({"warmup_steps": 0}, "warmup_steps"), ({"gamma": 0.1}, "gamma")],
)
def test_designer_bad_updates(designer, kwargs, word):
    with pytest.raises(ValueError, match=word):
        designer.update(**kwargs)


@pytest.mark.parametrize("kwargs, word", [({"curvature": 0.0}, "curvature"),
                                          ({"sigma": -1.0}, "sigma"), ({"num_steps": 5}, "num_steps")])
def test_designer_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        widgets.schedule_designer(**kwargs)


# --- range test -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def range_explorer():
    return widgets.range_test_explorer()  # the real model: an MLP on the digits


def test_range_test_explorer_shows_what_finder_computes(range_explorer):
    from lr_course.finder import range_test
    from lr_course.widgets.range_test import RANGE_TEST_OPTIMIZERS

    ex = range_explorer
    direct = range_test(ex.model, RANGE_TEST_OPTIMIZERS["momentum"], lr_min=1e-4, lr_max=100.0,
                        num_steps=100, batch_size=64, rng=np.random.default_rng(0),
                        smoothing=0.9)
    np.testing.assert_array_equal(ex.result.losses, direct.losses)
    assert ex._marks["suggestion"].get_xdata()[0] == pytest.approx(direct.suggestion)
    assert np.array_equal(ex._smooth.get_xdata(), direct.lrs)
    assert f"{direct.suggestion:.3g}" in ex.status.value
    # On the digits MLP the sweep to lr = 100 blows up: the stop is marked.
    assert direct.diverged and ex._marks["diverged"].get_visible()


def test_range_test_explorer_seed_and_optimizer_rerun_in_place(range_explorer, monkeypatch,
                                                              count_figures):
    ex = range_explorer
    draws = count_full_draws(monkeypatch, ex.figure)
    losses, png = ex.result.losses.copy(), ex.png()
    ex.controls["seed"].value = 3
    assert ex.seed == 3 and not np.array_equal(ex.result.losses[:50], losses[:50])
    assert ex.png() != png
    ex.update(optimizer="adam")
    assert ex.controls["optimizer"].value == "adam"
    assert draws == [] and count_figures == []
    ex.update(optimizer="momentum", seed=0)


@pytest.mark.parametrize("kwargs, word", [({"optimizer": "lion"}, "optimizer"),
                                          ({"smoothing": 1.0}, "smoothing"),
                                          ({"seed": 0.5}, "seed")])
def test_range_test_explorer_bad_updates(range_explorer, kwargs, word):
    with pytest.raises(ValueError, match=word):
        range_explorer.update(**kwargs)


@pytest.mark.parametrize("kwargs, word", [({"lr_min": 0.0}, "lr_min"),
                                          ({"lr_min": 1.0, "lr_max": 0.5}, "lr_max"),
                                          ({"num_steps": 1}, "num_steps")])
def test_range_test_explorer_bad_arguments(kwargs, word):
    from lr_course.problems import Quadratic

    with pytest.raises(ValueError, match=word):
        widgets.range_test_explorer(Quadratic([1.0]), **kwargs)


# --- search ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def search():
    return widgets.search_explorer(num_trials=16, seed=0)


def test_search_grid_tries_sqrt_n_lrs_random_tries_n(search):
    search.update(num_trials=36)
    assert len(np.unique(search.grid["lr"])) == 6 and len(np.unique(search.random["lr"])) == 36
    assert len(search._rand_pts.get_xdata()) == 36
    assert "6 distinct lrs" in search.status.value and "36 distinct lrs" in search.status.value


def test_search_best_so_far_curves_are_running_minima(search):
    search.update(num_trials=25, seed=4)
    curve = search._rand_curve.get_ydata()
    assert np.all(np.diff(curve) <= 0)
    assert curve[-1] == pytest.approx(max(search.random_scores.min(), 1e-6))
    assert search.grid_scores[search.grid_best] == search.grid_scores.min()


def test_search_random_beats_grid_in_most_seeds(search):
    # Only the lr matters, so n random lrs beat sqrt(n) grid lrs far more often than not.
    wins = 0
    for seed in range(40):
        search.update(num_trials=16, seed=seed)
        wins += search.random_scores[search.random_best] < search.grid_scores[search.grid_best]
    assert wins >= 30


def test_search_slider_redraws_in_place(search, monkeypatch, count_figures):
    draws = count_full_draws(monkeypatch, search.figure)
    png = search.png()
    search.controls["seed"].value = (search.seed + 1) % 100
    assert search.png() != png and draws == [] and count_figures == []


def test_search_diverged_trial_is_never_best():
    def objective(lr, momentum):
        return np.where(lr > 0.5, np.nan, -np.log10(lr))  # larger lr is better, until it diverges

    ex = widgets.search_explorer(objective, num_trials=9, seed=0)
    assert np.isfinite(ex.grid_scores[ex.grid_best]) and ex.grid["lr"][ex.grid_best] < 0.5


@pytest.mark.parametrize("kwargs, word", [({"num_trials": 10}, "num_trials"),
                                          ({"seed": -1}, "seed")])
def test_search_bad_updates(search, kwargs, word):
    with pytest.raises(ValueError, match=word):
        search.update(**kwargs)


def test_search_bad_objective():
    with pytest.raises(ValueError, match="objective"):
        widgets.search_explorer(objective=3)


# --- every explorer: headless static fallback -----------------------------------------------


@pytest.mark.parametrize("fixture", ["step_size", "race", "designer", "range_explorer", "search"])
def test_every_explorer_has_a_static_png_and_a_widget(fixture, request):
    explorer = request.getfixturevalue(fixture)
    bundle = explorer._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert explorer.image in explorer.widget.children
    # The figure object still draws the same picture on its own (for savefig in a lesson).
    import io
    out = io.BytesIO()
    explorer.figure.savefig(out, format="png", dpi=explorer.figure.dpi)
    # Same picture up to draw order where a moving line crosses a legend (< 0.5% of pixels).
    saved, shown = decoded_pixels(out.getvalue()), decoded_pixels(explorer.png())
    assert saved.shape == shown.shape
    assert np.mean(np.any(saved != shown, axis=-1)) < 0.005
    assert explorer.png() == bytes(explorer.image.value)
    # Every axes with its tick labels and titles fits in the frame (nothing cut off at an edge).
    renderer = explorer.figure.canvas.get_renderer()
    frame = explorer.figure.bbox
    for ax in explorer.figure.axes:
        box = ax.get_tightbbox(renderer)
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, (fixture, ax.get_title())
        assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1, (fixture, ax.get_title())


def test_log_slider_ends_are_accepted_despite_round_off(step_size, race):
    # 10 ** log10(low) can land a hair below low; moving the slider to its end must work.
    step_size.slider.value = step_size.slider.base ** step_size.slider.min
    assert step_size.lr == pytest.approx(step_size.lr_low)
    slider = race.sliders["sgd"]
    slider.value = slider.base ** slider.max
    assert race.lrs["sgd"] == pytest.approx(1.0)
    race.update(lrs={"sgd": 0.1})


@pytest.mark.slow
def test_executed_headless_the_notebook_keeps_a_static_figure(tmp_path):
    """Run the demo notebook in a real kernel (as nbconvert does): one display, with a PNG."""
    import shutil
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    source = Path(__file__).parent / "browser" / "explorer_demo.ipynb"
    shutil.copy(source, tmp_path / source.name)
    nb = nbformat.read(tmp_path / source.name, as_version=4)
    # A cell that ends with the factory call: displayed by the factory, not again as its value.
    nb.cells.append(nbformat.v4.new_code_cell("step_size_explorer(lr=0.15)"))
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 2, outputs  # once per cell
    assert not [o for o in outputs if o.output_type == "execute_result"]
    data = displays[0].data
    assert base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
    assert "application/vnd.jupyter.widget-view+json" in data
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]


def test_every_explorer_frame_labels_both_axes(step_size, race, designer, range_explorer, search):
    """A figure a learner reads has both axes named (the lr strip, which has no y, aside)."""
    for explorer in (step_size, race, designer, range_explorer, search):
        for ax in explorer.figure.axes:
            if ax.get_yticks().size and ax.yaxis.get_visible():
                assert ax.get_ylabel(), (type(explorer).__name__, ax.get_title())
            assert ax.get_xlabel() or not ax.get_xticks().size, (type(explorer).__name__,
                                                                 ax.get_title())
