"""Interactive widgets: sliders and drop-down lists that redraw a figure the notebook defines.

The notebook owns the mathematics (the function that draws); this module only wires sliders to it,
so that every widget in the course looks and behaves the same, and runs headless in tests.
Notebooks build their controls with ``slider``, ``integer`` and ``choice`` only.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt

STYLE = {"description_width": "initial"}


def slider(value: float, low: float, high: float, step: float, description: str) -> widgets.FloatSlider:
    """A slider over real numbers from ``low`` to ``high``; the figure redraws when it is released."""
    return widgets.FloatSlider(
        value=value, min=low, max=high, step=step, description=description, continuous_update=False, style=STYLE
    )


def integer(value: int, low: int, high: int, description: str, step: int = 1) -> widgets.IntSlider:
    """A slider over whole numbers (an iteration, a seed, a number of steps)."""
    return widgets.IntSlider(
        value=value, min=low, max=high, step=step, description=description, continuous_update=False, style=STYLE
    )


def choice(options, value, description: str) -> widgets.Dropdown:
    """A drop-down list of ``options`` (a digit, a model, a direction of the KL)."""
    return widgets.Dropdown(options=list(options), value=value, description=description, style=STYLE)


def headless() -> bool:
    """True when no person is watching: nbgrader, CI and the benchmark (``DGM_HEADLESS=1``).

    There, widgets are not created at all: nbclient can block on a cell that displays an Output
    widget (jupyter/nbclient#312), and nobody could move a slider anyway.
    """
    return bool(os.environ.get("DGM_HEADLESS") or os.environ.get("NBGRADER_EXECUTION"))


class Explorer(widgets.VBox):
    """The controls above the figure they redraw.

    Where no widget manager runs (an HTML export read offline, GitHub's viewer, a static website),
    a renderer shows the next format of the output instead: the PNG of the first figure, which
    this widget offers beside its widget view.
    """

    first_figure: bytes | None = None

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.first_figure:
            bundle["image/png"] = base64.b64encode(self.first_figure).decode("ascii")
        return bundle


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")  # as the inline backend draws it
    return buffer.getvalue()


def explore(draw: Callable[..., None], **controls: widgets.Widget) -> Explorer | None:
    """Sliders for ``draw(**values)``, which draws on the current matplotlib figure.

    ``draw`` is called once at once, so the figure also appears in static renderings (the website,
    a notebook executed in CI, an HTML export: see ``Explorer``), and again whenever a slider
    moves. Headless, only that first figure is drawn and None is returned.
    """
    if headless():
        draw(**{name: control.value for name, control in controls.items()})
        plt.show()
        return None
    out = widgets.Output()
    box = Explorer([widgets.HBox(list(controls.values())), out])

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            draw(**{name: control.value for name, control in controls.items()})
            if box.first_figure is None:
                box.first_figure = _png(plt.gcf())
            plt.show()

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return box
