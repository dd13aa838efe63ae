"""A small Sphinx extension for the book's HTML pages (loaded from _config.yml, sphinx: local_extensions).

- Each inline script once. Jupyter Book 1 reads its documents in two passes, and extensions that register
  their inline configuration scripts on "env-before-read-docs" (sphinx-thebe, sphinx-togglebutton) do so
  twice; the second copy of sphinx-thebe's ``const THEBE_JS_URL = ...`` is a SyntaxError in every page.
- A colour mode for the theme. Without a ``default_mode`` in the page context, pydata-sphinx-theme logs
  "Got invalid theme mode" to the console of every first visit; the figures and explorers are drawn for a
  light background.

The handler runs before the themes' own ``html-page-context`` handlers: Sphinx stops calling handlers of
that event at the first that returns a template name.
"""
from __future__ import annotations


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", None) or {}
    # an inline script's filename is None or "" depending on how it was registered
    return str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def _page_context(app, pagename, templatename, context, doctree) -> None:
    context.setdefault("default_mode", "light")
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    # in place: the list is the builder's, and handlers that run after this one (sphinx.ext.mathjax
    # adds MathJax to the pages that have formulas) append to it
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", _page_context, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
