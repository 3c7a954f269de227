"""Plotting helpers shared by the notebooks (matplotlib only)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLORS = {"p": "#1f77b4", "q": "#d62728", "forward": "#2ca02c", "reverse": "#9467bd"}


def style() -> None:
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def densities(ax, grid: np.ndarray, curves: dict[str, np.ndarray], title: str = "") -> None:
    """Plot named densities on one axis: ``densities(ax, x, {"p": p(x), "q": q(x)})``."""
    for name, values in curves.items():
        ax.plot(grid, values, label=name, color=COLORS.get(name.split()[0]))
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)


def image_grid(images: np.ndarray, rows: int, cols: int, title: str, size: float = 1.0):
    """Show ``rows * cols`` images (N, 28, 28) or (N, 784) in a grid under ``title``; returns the figure.

    The title is required: a grid has no axes to label, so the title is what tells a student what the
    images are (which model, which rows). Integer images are drawn on 0..255 and float images on 0..1,
    whatever their values: a float sample that overshoots 1 a little must not be drawn against 255
    (and look blank).
    """
    if not str(title).strip():
        raise ValueError("image_grid needs a title saying what the images are (for example 'samples of p(x)').")
    images = np.asarray(images)[: rows * cols].reshape(-1, 28, 28)
    vmax = 255 if np.issubdtype(images.dtype, np.integer) else 1
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size))
    for ax, image in zip(np.ravel(axes), images):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=vmax)
        ax.axis("off")
    fig.suptitle(title)
    return fig
