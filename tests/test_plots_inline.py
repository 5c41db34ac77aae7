"""In a real kernel, importing lr_course.plots stops pyplot's unseen redraw of inline figures."""

import json

import nbformat
import pytest

COUNT_DRAWS = """import matplotlib.figure
draws = []
_draw = matplotlib.figure.Figure.draw
def _counted(self, renderer):
    draws.append(1)
    return _draw(self, renderer)
matplotlib.figure.Figure.draw = _counted
"""
FIGURE = "import matplotlib.pyplot as plt\nplt.subplots(layout='constrained')[1].plot([1, 2, 3]);"


def run_cells(*sources):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb


def shows_png(cell):
    return any("image/png" in output.get("data", {}) for output in cell.outputs)


@pytest.mark.parametrize("with_plots", [False, True])
def test_inline_figures_are_drawn_once_not_three_times(with_plots):
    setup = COUNT_DRAWS + ("import lr_course.plots\n" if with_plots else "")
    nb = run_cells(setup, FIGURE, "print(len(draws))", FIGURE, "print(len(draws))")
    assert shows_png(nb.cells[1]) and shows_png(nb.cells[3])   # the figures are still shown
    after_one, after_two = (int(nb.cells[i].outputs[0]["text"]) for i in (2, 4))
    # print_figure draws twice (a dry run for the layout and the tight bounding box, then the
    # PNG); pyplot's post-cell hook would add a third, unseen, full draw per figure. With
    # lr_course.plots a laid-out figure runs its layout without a draw and is drawn once.
    per_figure = 1 if with_plots else 3
    assert (after_one, after_two) == (per_figure, 2 * per_figure)


def test_import_after_a_figure_keeps_that_figure():
    # switch_backend would close an open figure; the helper must not call it then
    nb = run_cells(COUNT_DRAWS, FIGURE + "\nimport lr_course.plots", "import json\nprint(json.dumps(plt.get_backend()))")
    assert shows_png(nb.cells[1])
    assert "inline" in json.loads(nb.cells[2].outputs[0]["text"])


def png_size(cell):
    import base64
    import struct

    data = next(o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {}))
    header = base64.b64decode(data)[:24]
    return struct.unpack(">II", header[16:24])   # the IHDR chunk: width, height


@pytest.mark.parametrize("with_plots", [False, True])
def test_laid_out_figures_skip_the_tight_crop_and_plain_ones_keep_it(with_plots):
    laid_out = ("import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 100\n"
                "plt.subplots(figsize=(4, 3), layout='constrained')[1].plot([1, 2, 3]);")
    plain = "plt.subplots(figsize=(4, 3))[1].plot([1, 2, 3]);"
    nb = run_cells("import lr_course.plots" if with_plots else "pass", laid_out, plain)
    # the tight crop trims the white margin of either figure; a laid-out figure fits its
    # canvas already, so with lr_course.plots it comes out at exactly figsize * dpi
    assert (png_size(nb.cells[1]) == (400, 300)) is with_plots
    assert png_size(nb.cells[2]) != (400, 300)


def test_wide_log_axes_lose_their_minor_ticks_narrow_and_chosen_ones_keep_them():
    import matplotlib.figure
    from matplotlib import ticker

    from lr_course.plots.ticks import lighten_log_axes

    def log_axes(low):
        ax = matplotlib.figure.Figure().add_subplot()
        ax.semilogy([1.0, low])
        return ax

    wide, narrow, chosen = log_axes(1e-7), log_axes(1e-2), log_axes(1e-7)
    mine = ticker.LogLocator(subs=(2.0, 5.0))
    chosen.yaxis.set_minor_locator(mine)
    linear = matplotlib.figure.Figure().add_subplot()
    linear.plot([0.0, 1.0])
    before, narrow_before = (len(ax.yaxis.get_minorticklocs()) for ax in (wide, narrow))
    assert [lighten_log_axes(ax.figure) for ax in (wide, narrow, chosen, linear)] == [1, 1, 1, 0]
    assert before > 40 and len(wide.yaxis.get_minorticklocs()) == 0
    assert len(narrow.yaxis.get_minorticklocs()) == narrow_before > 10   # 2..9 in each decade
    assert chosen.yaxis.get_minor_locator() is mine and len(chosen.yaxis.get_minorticklocs()) > 0
    assert lighten_log_axes(wide.figure) == 0              # already done: nothing to change


def test_the_inline_display_thins_the_minor_ticks_of_a_shown_figure():
    nb = run_cells("import lr_course.plots\nimport matplotlib.pyplot as plt\n"
                   "fig, ax = plt.subplots(layout='constrained'); ax.semilogy([1.0, 1e-7]);",
                   "print(type(ax.yaxis.get_minor_locator()).__name__)")
    assert shows_png(nb.cells[0])
    assert nb.cells[1].outputs[0]["text"].strip() == "SparseLogMinorLocator"


def test_log_labels_come_out_in_plain_text_and_read_as_matplotlib_s():
    import matplotlib.figure
    from matplotlib import ticker

    from lr_course.plots.ticks import PlainLogFormatter, lighten_log_axes

    plain = PlainLogFormatter()
    assert [plain(x) for x in (1e-3, 1.0, 100.0, 2e-2)] == ["10⁻³", "10⁰", "10²", "2×10⁻²"]
    ax = matplotlib.figure.Figure().add_subplot()
    ax.semilogy([1.0, 1e-2])
    ax.figure.canvas.draw()
    mathtext = [t.get_text() for t in ax.yaxis.get_ticklabels(which="both") if t.get_text()]
    lighten_log_axes(ax.figure)
    ax.figure.canvas.draw()
    shown = [t.get_text() for t in ax.yaxis.get_ticklabels(which="both") if t.get_text()]
    assert len(shown) == len(mathtext) > 3 and not any("$" in t for t in shown)
    assert all("$" in t for t in mathtext) and "10⁻²" in shown
    mine = ticker.FormatStrFormatter("%g")
    ax.xaxis.set_major_formatter(mine)
    ax.set_xscale("log")          # a new default formatter: replaced; then one chosen: kept
    ax.xaxis.set_major_formatter(mine)
    lighten_log_axes(ax.figure)
    assert ax.xaxis.get_major_formatter() is mine
