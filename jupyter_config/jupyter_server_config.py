"""JupyterLab as `make lab` and `make lab-instructor` open the course (both put this folder on JUPYTER_CONFIG_PATH).

The student view adds ``student/`` in front of it (nbgrader's instructor tools off: see
``student/jupyter_server_config.json`` and ``student/labconfig/page_config.json``). JupyterLab's
settings defaults for both views are in ``settings/overrides.json``: no news pop-up, no update check,
no Jupytext entries in the launcher, Markdown files open rendered (README.md is the landing page).
"""

from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when Jupyter loads this file)

c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "settings")
