"""Sphinx extension: two pieces of markup that other extensions write, made readable by assistive technology.

Each is changed where it is written (a translator method, a node's HTML visitor), not by editing the
built pages; tests/test_browser.py runs axe-core on every page.

* **The reference list.** docutils' HTML5 writer wraps the citations of a page (sphinxcontrib-bibtex's
  reference list) in an element with `role="list"` and gives each entry `role="doc-biblioentry"`. ARIA 1.2
  deprecates that role, and a list may only own list items: axe reports "aria-required-children"
  (critical; screen readers then announce the list without its entries) and "aria-deprecated-role" on
  each entry. Here each entry is a `listitem` (its id, classes, label and backlinks unchanged), by
  subclassing whatever translator the theme installed (pydata-sphinx-theme replaces Sphinx's at
  `builder-inited`, so this runs after it).
* **Folded code cells.** myst-nb writes the toggle of a `hide-input`/`hide-output` cell as a <summary>
  named "Toggle hidden content" (aria-label) that shows "Show code cell source": a name without the
  visible text fails WCAG 2.1 success criterion 2.5.3 (Label in Name; axe: label-content-name-mismatch),
  and a speech-input user who says "show code cell source" cannot reach it. Here the summary has no
  aria-label, so its name is the text it shows; everything else is myst-nb's.
"""

from __future__ import annotations

from html import escape


def _citations_as_list_items(translator_class):
    class CitationListTranslator(translator_class):
        def visit_citation(self, node):
            if not isinstance(node.previous_sibling(), type(node)):
                self.body.append('<div role="list" class="citation-list">\n')
            self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))

    CitationListTranslator.__name__ = f"CitationList{translator_class.__name__}"
    return CitationListTranslator


def _install_translator(app):
    if app.builder.format != "html":
        return
    translator = app.registry.get_translator_class(app.builder)
    app.set_translator(app.builder.name, _citations_as_list_items(translator), override=True)


def visit_hidden_cell(self, node):
    """myst-nb's `visit_HideCellInput`, with the summary named by the text it shows."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append("<summary>\n")
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def depart_hidden_cell(self, node):
    self.body.append("</details>\n")


def setup(app):
    from myst_nb.sphinx_ import HideCodeCellNode

    app.connect("builder-inited", _install_translator, priority=900)  # after the theme's translator (500)
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_hidden_cell))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
