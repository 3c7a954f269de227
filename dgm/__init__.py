"""Helpers for the deep generative models course: configuration, data, plots, widgets and checks.

The package holds no exercise solutions: students can read every line of it.
"""

__version__ = "0.1.0"
