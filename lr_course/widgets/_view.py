"""The machinery every explorer shares: a figure drawn to PNG fast, shown in a widget.

Why PNG in an ``ipywidgets.Image`` rather than ``Output`` + inline plots: a slider move must
redraw in place in well under 50 ms. Re-rendering a whole figure with contour plots costs
60-250 ms with Agg, so a :class:`FrameRenderer` draws the still parts (axes, contours, marked
thresholds) once into a cached background and on each move repaints only the artists created
with ``animated=True`` over it (blitting), then encodes the pixels with Pillow at its fastest
PNG setting. The figure object is created once and never replaced.

Headless (nbconvert, tests, a plain script) the same explorer still shows a static image: its
display bundle carries the current frame as ``image/png`` next to the widget view.
"""

from __future__ import annotations

import base64
import contextlib
import io

import ipywidgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from lr_course.plots.tickmemo import ticks_remembered
from lr_course.plots.ticks import lighten_log_axes

# Pixels per inch of the frames. 80 keeps a three-panel figure near 700 px wide: sharp at
# the width of a notebook cell, and cheap to encode.
DPI = 80


def new_figure(width, height, dpi=DPI):
    """A matplotlib Figure on its own Agg canvas (never pyplot: no global state, no leaks)."""
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


class FrameRenderer:
    """Render a Figure to PNG bytes, repainting only its animated artists on each frame.

    Call :meth:`invalidate` after changing anything that is not animated (limits, ticks,
    contours); the next frame then redraws the whole figure once.
    """

    def __init__(self, figure):
        self.figure = figure
        self._background = None
        self._renderer = None
        self._layout_done = False

    def invalidate(self):
        """Forget the cached background: the next frame draws every artist."""
        self._background = None

    def _animated_artists(self):
        found = []
        for ax in self.figure.axes:
            found.extend(a for a in ax.get_children() if a.get_animated() and a.get_visible())
        found.extend(a for a in self.figure.texts if a.get_animated() and a.get_visible())
        # Keep the drawing order matplotlib would use, so overlaps look the same as in savefig.
        return sorted(found, key=lambda a: a.get_zorder())

    def render(self):
        """Return the current frame as PNG bytes."""
        canvas = self.figure.canvas
        renderer = canvas.get_renderer()
        if self._background is None or renderer is not self._renderer:
            # as the inline figures: sparse minor ticks and plain-text labels on log axes (cheaper)
            lighten_log_axes(self.figure)
            with ticks_remembered():  # each axis's ticks once per layout pass (same pixels)
                canvas.draw()  # skips animated artists: this is the still background
            if not self._layout_done:
                # The constrained layout is solved on the first full draw (which placed the axes
                # of this background); freeze it so later full draws (new limits) do not shift
                # the axes under the user's eye.
                self.figure.set_layout_engine("none")
                self._layout_done = True
            renderer = canvas.get_renderer()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._renderer = renderer
        else:
            canvas.restore_region(self._background)
        for artist in self._animated_artists():
            self.figure.draw_artist(artist)
        return encode_png(np.asarray(canvas.buffer_rgba()))


def encode_png(rgba):
    """PNG bytes of an (h, w, 4) uint8 array; fastest zlib level (frames are short-lived)."""
    out = io.BytesIO()
    height, width = rgba.shape[:2]
    # frombuffer wraps Agg's buffer without a copy; dropping alpha in C is cheaper than numpy
    # slicing, and an opaque PNG is smaller and faster to compress.
    image = Image.frombuffer("RGBA", (width, height), np.ascontiguousarray(rgba), "raw", "RGBA", 0, 1)
    image.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


class Explorer:
    """Base of the explorers: a figure, its renderer, an Image widget and the controls.

    Subclasses build the figure (moving artists with ``animated=True``) and the controls, then
    call :meth:`_finish`; their ``update(**values)`` recomputes, moves the artists and calls
    :meth:`_show_frame`.

    Attributes:
        figure: the matplotlib Figure (created once; updates change its artists in place).
        image: the ``ipywidgets.Image`` that shows the current frame.
        widget: the whole explorer as one ipywidgets container (controls above the image).
    """

    figure: Figure
    image: ipywidgets.Image
    widget: ipywidgets.Widget

    def _finish(self, controls, footer=()):
        self._frames = FrameRenderer(self.figure)
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="auto"))
        self.image.add_class("lr-course-frame")
        self.widget = ipywidgets.VBox([*controls, self.image, *footer])
        self.widget.add_class("lr-course-explorer")
        self._shown_in = None

    def _on_change(self, control, handler):
        """Call ``handler(new_value)`` when a person moves ``control`` (not when code syncs it)."""

        def observer(change):
            if not getattr(self, "_syncing_controls", False):
                handler(change["new"])

        control.observe(observer, names="value")

    @contextlib.contextmanager
    def _syncing(self):
        """Set controls from code (so they show what ``update`` did) without re-triggering it."""
        self._syncing_controls = True
        try:
            yield
        finally:
            self._syncing_controls = False

    def _show_frame(self, full=False):
        if full:
            self._frames.invalidate()
        self.image.value = self._frames.render()

    def png(self):
        """The frame currently shown, as PNG bytes (the static fallback for any front end)."""
        return bytes(self.image.value)

    def _repr_png_(self):
        return self.png()

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget view for live front ends; the PNG for nbconvert, GitHub and friends, which
        # pick the richest type they can render.
        bundle = dict(self.widget._repr_mimebundle_())
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle

    def _ipython_display_(self):
        from IPython import get_ipython
        from IPython.display import display

        # The factories display the explorer, and a cell that ends with the factory call would
        # then show it a second time: show it at most once per executed cell.
        shell = get_ipython()
        count = getattr(shell, "execution_count", None)
        if count is not None and count == self._shown_in:
            return
        self._shown_in = count
        display(self._repr_mimebundle_(), raw=True)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def show(explorer):
    """Display ``explorer`` when running under IPython; return it either way."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        return explorer
    if get_ipython() is not None:
        from IPython.display import display

        display(explorer)
    return explorer


def in_range(value, low, high):
    """True if ``value`` is finite and in [low, high], allowing the round-off of log sliders
    (``10 ** log10(low)`` may land a hair outside)."""
    return bool(np.isfinite(value) and low * (1 - 1e-9) <= value <= high * (1 + 1e-9))


def log_slider(description, value, low, high, readout_format=".3g"):
    """A slider over [low, high] that moves in equal ratios (as a learning rate should)."""
    return ipywidgets.FloatLogSlider(
        value=value,
        base=10.0,
        min=float(np.log10(low)),
        max=float(np.log10(high)),
        step=0.01,
        description=description,
        readout_format=readout_format,
        continuous_update=True,
        style={"description_width": "initial"},
        layout=ipywidgets.Layout(width="480px"),
    )
