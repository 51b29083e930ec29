"""Sphinx extension: every script once per page.

With Jupyter Book 1.0.4 (Sphinx 7), sphinx-thebe and sphinx-togglebutton register their inline
configuration scripts twice, and the second `const THEBE_JS_URL = ...` is a JavaScript error on
every page. This drops repeated scripts (same source, same body, same attributes), keeping the
first of each in its place.
"""

from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # The same script may come once with filename None and once with "" (an inline body).
        filename = getattr(script, "filename", script) or None
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
