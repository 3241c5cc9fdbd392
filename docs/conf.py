"""Sphinx configuration for the sklearn_relubias documentation.

Build from the repository root with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Set ``RELUBIAS_DOCS_QUICK=1`` to skip running the gallery examples.
"""

import os
import re
import sys
from pathlib import Path

# Document the package in this checkout, also when it is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sklearn_relubias  # noqa: E402

project = "sklearn_relubias"
author = "sklearn_relubias developers"
copyright = "sklearn_relubias developers"  # noqa: A001
version = release = sklearn_relubias.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
# No intersphinx: the documentation must build without network access.

templates_path = ["_templates"]
exclude_patterns = ["_build", "scripts"]
source_suffix = {".rst": "restructuredtext"}
# CHANGELOG.md is written for GitHub, not for Sphinx: a skipped heading level
# there is not an error.
suppress_warnings = ["myst.header"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary / numpydoc -------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# The class template lists the methods itself; numpydoc's own member tables
# would duplicate them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# "fit()" rather than "ShallowReLURegressor.fit()" in the page table of contents.
toc_object_entries_show_parents = "hide"


# Methods inherited from scikit-learn (score, get_params, set_params, the
# metadata-routing helpers) have docstrings with :ref: and :term: links into
# scikit-learn's own documentation. Without intersphinx they cannot resolve, so
# they are turned into plain text, for scikit-learn's objects only.
_SKLEARN_XREF = re.compile(r":(?:ref|term):`([^`<]+?)\s*(?:<[^`>]+>)?`")


def _unlink_sklearn_xrefs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if module == "sklearn" or module.startswith("sklearn."):
        lines[:] = [_SKLEARN_XREF.sub(r"\1", line) for line in lines]


def setup(app):
    """Connect the docstring hook."""
    app.connect("autodoc-process-docstring", _unlink_sklearn_xrefs)


# -- sphinx-gallery -------------------------------------------------------------
QUICK = os.environ.get("RELUBIAS_DOCS_QUICK", "") == "1"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Execute only examples/plot_*.py ...
    "filename_pattern": r"/plot_",
    # ... and leave plain scripts (quickstart.py, gap_table.py, ...) out of the
    # gallery altogether: ignore every .py file whose name does not start with
    # plot_. Matched against the bare file name and against the full path.
    "ignore_pattern": r"(^|[\\/])(?!plot_)[^\\/]+\.py$",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sklearn_relubias",),
    "reference_url": {"sklearn_relubias": None},
    "plot_gallery": not QUICK,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_relubias {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}
# The narrative pages have no sub-pages: no left sidebar there.
html_sidebars = {page: [] for page in ("index", "install", "user_guide", "changelog", "api")}
html_static_path = []
html_show_sourcelink = False
