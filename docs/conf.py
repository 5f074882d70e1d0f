"""Sphinx configuration of the fromscratch site: ``nox -s docs`` builds it strictly.

The pages under ``concepts/``, ``implementations/``, ``api/`` and ``report.md`` are
generated at build time by ``_ext/fromscratch_docs.py`` (see its docstring); MathJax is
served from the build (``sphinx-mathjax-offline``), never from a CDN.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "fromscratch"
author = "the fromscratch authors"
copyright = "the fromscratch authors"

extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/mathjax, sets mathjax_path
    "fromscratch_docs",
]

# Markdown pages; reStructuredText only for the generated API pages (autodoc is reST).
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "side-by-side.md",  # the code host's single-page version of concepts/; the site has those
    "**/.pytest_cache",
]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3  # so the READMEs' "#section" links resolve

# A broken cross-reference to anything of ours is a warning (and -W makes it an error);
# third-party names (numpy, typing) are not documented here and are not checked.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!fromscratch\.).*")]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
napoleon_google_docstring = False
napoleon_custom_sections = [("Options", "params_style")]

html_theme = "furo"
html_title = "fromscratch"
html_static_path = ["_static"]
html_css_files = ["site.css"]
