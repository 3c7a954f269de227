"""Interactive widgets: sliders that redraw a figure the notebook defines.

The notebook owns the mathematics (the function that draws); this module only wires sliders to it,
so that every widget in the course looks and behaves the same, and runs headless in tests.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt


def slider(value: float, low: float, high: float, step: float, description: str) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               continuous_update=False, style={"description_width": "initial"})


def explore(draw: Callable[..., None], **controls: widgets.Widget) -> widgets.VBox:
    """Sliders for ``draw(**values)``, which draws on the current matplotlib figure.

    ``draw`` is called once at once, so the figure also appears in static renderings (the website,
    a notebook executed in CI), and again whenever a slider moves.
    """
    out = widgets.Output()

    def redraw(_=None):
        with out:
            out.clear_output(wait=True)
            draw(**{name: control.value for name, control in controls.items()})
            plt.show()

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(controls.values())), out])
