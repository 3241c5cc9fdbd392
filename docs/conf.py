"""Sphinx configuration for the sklearn_relubias documentation.

Build from the repository root with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Set ``RELUBIAS_DOCS_QUICK=1`` to skip running the gallery examples.
"""

import os
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
exclude_patterns = ["_build", "scripts", "auto_examples/*.ipynb", "auto_examples/*.py"]
source_suffix = {".rst": "restructuredtext"}
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
html_sidebars = {"install": [], "changelog": []}
html_static_path = []
html_show_sourcelink = False
