"""Author-year labels for the book's citations and reference list (a Sphinx extension).

sphinxcontrib-bibtex writes a citation (`{cite}` with `bibtex_reference_style: label`) as the label that
the bibliography's pybtex style gives the entry, and shows the same label in front of the entry in the
reference list, so a reader finds "[He et al., 2016a]" under that very label. pybtex's own label styles
are numbers ("[1]") or alpha codes ("[HZRS16a]"); this module adds the author-year one and registers
it the way sphinxcontrib-bibtex documents ("Custom Formatting, Sorting, and Labelling": call
`pybtex.plugin.register_plugin` from conf.py, which for a Jupyter Book is a local extension):

    sphinx:
      local_extensions:
        author_year_labels: tools/citation_style
      config:
        bibtex_default_style: author_year
        bibtex_reference_style: label

Labels: "Peixeiro, 2019", "Ioffe and Szegedy, 2015", "He et al., 2016" for three authors or more.
Two entries that would get the same label get "a", "b", ... in the order of the reference list
(sorted by author, year and title), as in natbib: He et al., 2016a and 2016b.
"""

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle

STYLE_NAME = "author_year"


def _surname(person) -> str:
    """The surname as plain text, with its "von" part and without LaTeX markup: "Dollár", "deeplearning.ai"."""
    return Text(" ").join([*person.rich_prelast_names, *person.rich_last_names]).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] == 1:
                yield label
            else:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1

    def format_label(self, entry) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        surnames = [_surname(person) for person in persons]
        if not surnames:
            who = entry.fields.get("key") or entry.fields.get("organization") or entry.key
        elif len(surnames) == 1:
            who = surnames[0]
        elif len(surnames) == 2:
            who = f"{surnames[0]} and {surnames[1]}"
        else:
            who = f"{surnames[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearTitleSorting(SortingStyle):
    """pybtex's sorting by author, year and title, blind to the braces that protect a name's case: the
    author {deeplearning.ai} sorts under "d", not after "z"."""

    def person_key(self, person):
        return super().person_key(person).replace("{", "").replace("}", "")


class AuthorYearStyle(UnsrtStyle):
    """pybtex's entry formatting (that of `plain`), sorted by author, year and title, with author-year labels."""

    default_sorting_style = AuthorYearTitleSorting
    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle, force=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
