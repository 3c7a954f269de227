"""Sphinx configuration of the course website (`make site`, tools/site.py).

The pages are the lectures as executed in FAST mode (tools/site.py gathers them); Sphinx never runs
a notebook. Every asset a page loads is served by the site itself, so it reads offline.
"""

project = "Deep generative models"
author = "The course authors"
copyright = "the course authors, MIT licence"

extensions = [
    "myst_nb",  # notebooks and Markdown pages
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax; sets mathjax_path to it
]

# Render the executed copies as they are: executing here would run every lecture again.
nb_execution_mode = "off"
# Markdown outputs and cells use the same math syntax as JupyterLab: $...$ and $$...$$.
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_render_markdown_format = "myst"
# A figure is a PNG: never prefer a widget view (it needs a widget manager from a CDN) or JavaScript.
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/javascript", None),
]
suppress_warnings = ["mystnb.unknown_mime_type"]  # the widget views removed just above
# No widget manager: MyST-NB would load require.js and the widgets' HTML manager from CDNs.
nb_ipywidgets_js = {}

html_theme = "sphinx_book_theme"
html_title = "Deep generative models"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,  # the page's notebook, as executed
    "use_fullscreen_button": False,
}
html_show_sourcelink = False
exclude_patterns = ["_build", "**.ipynb_checkpoints", "labs"]
