"""The chapters as Jupyter notebooks that read right without MyST: Colab, Jupyter and the student copies.

The chapters (`book/*.ipynb`) are written in MyST markdown for the website. A plain Jupyter renderer
(Colab, JupyterLab without the jupyterlab-myst extension, nbconvert, GitHub) shows MyST's roles,
targets and directives as literal text, and a figure as a code block without its image. This writes,
for every chapter of `_toc.yml`, a copy in `notebooks/book/` (the chapter's own path under
`notebooks/`, which `repository.path_to_book` in `_config.yml` points the website's Open-in-Colab
buttons at) whose markdown is CommonMark with HTML and `$math$` only:

* ``{cite}`key` `` -> "[He et al., 2016a]", the label the website gives the entry (its pybtex style,
  `tools/citation_style`), linked to the entry on the published website; the chapter ends with a
  "References" cell listing the entries it cites, as the website's reference list writes them;
* ``{ref}`label` ``, ``{numref}`label` ``, ``{doc}`page` `` -> a link to the page and anchor on the published
  website, with the target's title (or the role's explicit text);
* `(label)=` lines -> removed;
* a figure (```` ```{figure} ```` or `:::{figure}`) -> an `<img>` of the drawing's PNG at the release tag on
  GitHub (raw.githubusercontent.com), with its alt text and its width, and the caption below it.
  Colab renders neither cell attachments (googlecolab/colabtools#3836) nor SVG files served by
  GitHub's raw endpoint, but it does render a PNG from there; `tools/draw_figures.py` draws each
  figure as SVG (the website's) and PNG (the notebooks');
* an admonition (```` ```{note} ````, `:::{tip}`, ```` ```{admonition} Title ````, ...) -> a block quote
  with a bold title; ```` ```{math} ```` -> `$$ ... $$`;
* anything else written in MyST stops the conversion with the chapter, cell and line: nothing passes
  through unconverted (`myst_leftovers` checks the result with MyST's own parser).

Code cells, cell ids, metadata and tags stay as they are (nbgrader's metadata, the Colab install cell).

    python tools/jupyter_notebooks.py --write   # (re)write notebooks/book/*.ipynb (make notebooks)
    python tools/jupyter_notebooks.py --check   # exit 1 naming every notebook that is missing or stale

`tools/release.py --write` runs `--write` too (the image URLs name the release tag), and `--check`
is part of `tools/release.py --check` and of the tests. As a Sphinx extension (`_config.yml`,
`sphinx.local_extensions`), this module puts the converted chapter in place of each chapter's
source file in the built website (`_sources/`), which the page's download button hands out.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import struct
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks"
CONFIG = ROOT / "_config.yml"
TOC = ROOT / "_toc.yml"
CITATION_STYLE = ROOT / "tools" / "citation_style"
#: Cell id of the reference list added at the end of a chapter that cites anything.
REFERENCES_CELL_ID = "jupyter-notebook-references"
#: The MyST extensions the book enables (`parse.myst_enable_extensions` in `_config.yml`).
MYST_EXTENSIONS = ("amsmath", "colon_fence", "dollarmath", "deflist")
ADMONITIONS = ("admonition", "attention", "caution", "danger", "error", "hint", "important", "note",
               "seealso", "tip", "warning")
TARGET = re.compile(r"^\(([^()\s]+)\)=\s*$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*)$")
OPTION = re.compile(r"^:(?P<name>[\w-]+):\s*(?P<value>.*)$")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
# A role, or an inline code span (kept as it is: a role's syntax inside code is code, not a role).
ROLE_OR_CODE = re.compile(r"\{(?P<role>[\w:+-]+)\}`(?P<content>[^`]+)`|(?P<ticks>`+)(?P<code>.*?[^`])(?P=ticks)(?!`)")
EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


class ConversionError(ValueError):
    """A chapter holds MyST that has no Jupyter equivalent here; the message says where."""


# --- the book's settings ------------------------------------------------------------------------------


def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def site_url() -> str:
    """The published website's address, with a final slash (`html.baseurl` in `_config.yml`)."""
    url = (_yaml(CONFIG).get("html") or {}).get("baseurl")
    if not url:
        raise ConversionError("_config.yml has no html.baseurl (the published website's address, where the "
                              "notebooks' links lead): add it, e.g. with `python tools/release.py --write`.")
    return url.rstrip("/") + "/"


def raw_url(path: str) -> str:
    """The address of the repository file `path` at the release tag on GitHub's raw file server."""
    import release  # tools/ is on the path: this module lives there (a script, a Sphinx extension, or imported)

    owner, name = release.repository_url().removeprefix("https://github.com/").split("/")[:2]
    return f"https://raw.githubusercontent.com/{owner}/{name}/v{release.version()}/{path}"


def toc_pages() -> list[str]:
    """Every page of `_toc.yml`, as a path without suffix ("book/intro", "book/01_...")."""
    toc = _yaml(TOC)
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts") or []:
                walk(part.get("chapters"))

    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [page.removesuffix(".ipynb").removesuffix(".md") for page in pages]


def page_source(page: str) -> Path:
    for suffix in (".ipynb", ".md"):
        if (ROOT / (page + suffix)).exists():
            return ROOT / (page + suffix)
    raise ConversionError(f"_toc.yml lists {page}, but neither {page}.ipynb nor {page}.md exists.")


def chapters() -> list[Path]:
    """The notebooks of the book's table of contents, in its order."""
    return [path for path in map(page_source, toc_pages()) if path.suffix == ".ipynb"]


def markdown_of(path: Path) -> list[str]:
    """The markdown of a page: each markdown cell of a notebook, or the whole of a .md file."""
    if path.suffix == ".md":
        return [path.read_text()]
    return ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "markdown"]


@lru_cache(maxsize=None)
def targets() -> dict[str, tuple[str, str]]:
    """{label: (page, title)} of every `(label)=` target (title: the heading after it) and every
    figure's `:name:` (title: the figure's caption), across the book."""
    found = {}
    for page in toc_pages():
        path = page_source(page)
        for text in markdown_of(path):
            lines = text.splitlines()
            for index, line in enumerate(lines):
                match = TARGET.match(line)
                if match:
                    following = next((later for later in lines[index + 1:] if later.strip()), "")
                    heading = HEADING.match(following)
                    found[match.group(1)] = (page, heading.group("title") if heading else match.group(1))
            for name, caption in re.findall(r"^:name:\s*(\S+)\s*\n(?::[\w-]+:.*\n)*\s*\n(.+)", text, re.MULTILINE):
                found[name] = (page, caption.strip())
    return found


@lru_cache(maxsize=None)
def bibliography() -> dict[str, tuple[str, str]]:
    """{key: (label, the entry as markdown)} of every entry of the book's .bib files, labelled and
    formatted by the pybtex style the website uses (`bibtex_default_style`), over the whole file
    as on the website's reference list (`{bibliography}` with `:all:`), so that the letters of
    "2016a" and "2016b" are the website's."""
    from pybtex.database import BibliographyData, parse_file
    from pybtex.plugin import find_plugin

    sys.path.insert(0, str(CITATION_STYLE))
    import author_year_labels

    config = _yaml(CONFIG)
    data = BibliographyData()
    for name in config.get("bibtex_bibfiles", []):
        for key, entry in parse_file(str(ROOT / name)).entries.items():
            data.add_entry(key, entry)
    style_name = config["sphinx"]["config"].get("bibtex_default_style", "alpha")
    if style_name == author_year_labels.STYLE_NAME:  # the book's own style, which its Sphinx extension registers
        style = author_year_labels.AuthorYearStyle()
    else:
        style = find_plugin("pybtex.style.formatting", style_name)()
    return {entry.key: (entry.label, " ".join(entry.text.render_as("markdown").split("\n")))
            for entry in style.format_bibliography(data)}


def references_page() -> str:
    """The page that holds the book's reference list (its `{bibliography}` directive)."""
    for page in toc_pages():
        path = page_source(page)
        if any(re.search(r"^(```|:::)\{bibliography\}", text, re.MULTILINE) for text in markdown_of(path)):
            return page
    raise ConversionError("no page of _toc.yml has a {bibliography} directive: citations have nothing to link to.")


def cite_id(key: str) -> str:
    """The HTML id of an entry in the website's reference list (`bibtex_cite_id` in `_config.yml`)."""
    template = _yaml(CONFIG)["sphinx"]["config"].get("bibtex_cite_id")
    if not template:
        raise ConversionError("_config.yml sets no sphinx.config.bibtex_cite_id (e.g. \"cite-{key}\"): without it "
                              "the reference list's ids are numbers that change, and no link can name an entry.")
    return template.format(key=key, bibliography_count=1).lower()


def page_url(page: str, anchor: str | None = None) -> str:
    return site_url() + page + ".html" + (f"#{anchor}" if anchor else "")


# --- converting markdown ------------------------------------------------------------------------------


class _Converter:
    """Converts the markdown cells of one chapter; collects the keys it cites."""

    def __init__(self, name: str):
        self.name = name
        self.cited: list[str] = []
        self.where = self.cell_where = name
        self.page = ""

    def fail(self, message: str):
        raise ConversionError(f"{self.where}: {message}")

    # inline ---------------------------------------------------------------------------------------

    def inline(self, text: str) -> str:
        return ROLE_OR_CODE.sub(lambda match: self.role(match) if match.group("role") else match.group(0), text)

    def role(self, match) -> str:
        role, content = match.group("role"), match.group("content").strip()
        if role in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
            return self.citation(role, content)
        if role in ("ref", "numref", "doc"):
            return self.link(role, content)
        if role in ("math",):
            return f"${content}$"
        return self.fail(f"the role {{{role}}}`{content}` has no Jupyter equivalent in tools/jupyter_notebooks.py; "
                         "write it as plain markdown, or teach the converter to convert it.")

    def citation(self, role: str, content: str) -> str:
        entries = bibliography()
        parts = []
        for key in (key.strip() for key in content.split(",")):
            if key not in entries:
                self.fail(f"{{cite}}`{content}`: no entry {key!r} in the book's .bib file.")
            if key not in self.cited:
                self.cited.append(key)
            parts.append(f"[{entries[key][0]}]({page_url(references_page(), cite_id(key))})")
        joined = "; ".join(parts)
        return joined if role.startswith("cite:t") else f"\\[{joined}\\]"

    def link(self, role: str, content: str) -> str:
        explicit = EXPLICIT_TITLE.match(content)
        title, target = (explicit.group("title"), explicit.group("target")) if explicit else (None, content)
        if role == "doc":
            page = target.removesuffix(".ipynb").removesuffix(".md").lstrip("/")
            if page not in toc_pages():
                page = str(Path(self.page).parent / page)
            if page not in toc_pages():
                self.fail(f"{{doc}}`{content}`: no page {target!r} in _toc.yml.")
            return f"[{title or self.page_title(page)}]({page_url(page)})"
        if target not in targets():
            self.fail(f"{{{role}}}`{content}`: no target ({target})= or figure :name: {target} in the book.")
        page, target_title = targets()[target]
        return f"[{(title or target_title).replace('%s', '').strip()}]({page_url(page, target)})"

    @staticmethod
    def page_title(page: str) -> str:
        for text in markdown_of(page_source(page)):
            for line in text.splitlines():
                heading = HEADING.match(line)
                if heading and line.startswith("# "):
                    return heading.group("title")
        return page

    # blocks ---------------------------------------------------------------------------------------

    def markdown(self, text: str) -> str:
        lines = text.split("\n")
        out: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            self.where = f"{self.cell_where}, line {index + 1}"
            if TARGET.match(line):
                index += 1
                continue
            fence = FENCE.match(line)
            if fence:
                end = self._fence_end(lines, index, fence)
                body = lines[index + 1:end]
                info = fence.group("info").strip()
                directive = DIRECTIVE.match(info)
                if directive:
                    out.extend(self.directive(directive.group("name"), directive.group("argument").strip(), body))
                elif fence.group("fence")[0] == ":":
                    self.fail(f"a colon fence without a directive ({line.strip()!r}): plain Jupyter shows it as text.")
                else:
                    out.extend(lines[index:end + 1])  # a code block: verbatim
                index = end + 1
                continue
            out.append(self.inline(line))
            index += 1
        return "\n".join(out).strip("\n")

    def _fence_end(self, lines, start, fence) -> int:
        mark = fence.group("fence")
        closing = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}\s*$")
        for index in range(start + 1, len(lines)):
            if closing.match(lines[index]):
                return index
        return self.fail(f"the fence {mark} opened here is never closed.")

    def directive(self, name: str, argument: str, body: list[str]) -> list[str]:
        options, body = self._options(body)
        if name == "figure":
            return self.figure(argument, options, body)
        if name in ADMONITIONS:
            title = argument if name == "admonition" else (argument or name.capitalize())
            if not title:
                self.fail("{admonition} needs a title.")
            converted = self.markdown("\n".join(body)).split("\n")
            return [f"> **{self.inline(title)}**", ">", *[f"> {line}".rstrip() for line in converted]]
        if name == "math":
            return ["$$", *body, "$$"]
        return self.fail(f"the directive {{{name}}} has no Jupyter equivalent in tools/jupyter_notebooks.py; "
                         "write it as plain markdown, or teach the converter to convert it.")

    @staticmethod
    def _options(body: list[str]) -> tuple[dict, list[str]]:
        options = {}
        index = 0
        while index < len(body) and OPTION.match(body[index].strip()):
            match = OPTION.match(body[index].strip())
            options[match.group("name")] = match.group("value").strip()
            index += 1
        return options, body[index:]

    def figure(self, source: str, options: dict, caption: list[str]) -> list[str]:
        unknown = set(options) - {"alt", "name", "width", "align", "figwidth", "class"}
        if unknown:
            self.fail(f"figure {source}: options {sorted(unknown)} have no Jupyter equivalent here.")
        if "alt" not in options:
            self.fail(f"figure {source} has no :alt: text: write what it shows, for readers who cannot see it.")
        path = (ROOT / self.page).parent / source
        if path.suffix == ".svg":
            path = path.with_suffix(".png")
        if not path.exists():
            self.fail(f"figure {source}: {path.relative_to(ROOT)} does not exist (draw it: python tools/draw_figures.py).")
        width = png_width(path.read_bytes()) // 2  # drawn at two pixels per CSS pixel (tools/draw_figures.py)
        image = (f'<img src="{raw_url(path.relative_to(ROOT).as_posix())}" alt="{html.escape(options["alt"])}" '
                 f'width="{width}">')
        text = self.markdown("\n".join(caption)).strip()
        return [image, "", *(f"*Figure.* {text}" if text else "").split("\n")]

    # notebooks ------------------------------------------------------------------------------------

    def notebook(self, notebook, page: str):
        import nbformat

        self.page = page
        for number, cell in enumerate(notebook.cells, start=1):
            if cell.cell_type == "markdown":
                self.cell_where = f"{page}.ipynb, cell {number} (markdown)"
                cell.source = self.markdown(cell.source)
        if self.cited:
            entries = bibliography()
            order = [key for key in entries if key in self.cited]  # the reference list's order
            items = [f"- **{entries[key][0]}.** {entries[key][1]}" for key in order]
            source = "\n".join(["## References", "",
                                f"The works this chapter cites, as in the book's [reference list]"
                                f"({page_url(references_page())}).", "", *items])
            notebook.cells.append(nbformat.v4.new_markdown_cell(source, id=REFERENCES_CELL_ID))
        return notebook


def png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]


def convert(path: Path):
    """The Jupyter-ready version of the chapter at `path` (an nbformat notebook; nothing is written).

    Raises:
        ConversionError: the chapter holds MyST that has no conversion; the message names the cell and line.
    """
    import nbformat

    page = path.resolve().relative_to(ROOT).with_suffix("").as_posix()
    notebook = nbformat.read(path, as_version=4)
    notebook = _Converter(path.name).notebook(notebook, page)
    leftovers = [f"{page}, cell {number}: {what}" for number, cell in enumerate(notebook.cells, start=1)
                 if cell.cell_type == "markdown" for what in myst_leftovers(cell.source)]
    if leftovers:
        raise ConversionError("MyST left after the conversion:\n" + "\n".join(leftovers))
    return notebook


def myst_leftovers(markdown: str) -> list[str]:
    """What MyST's own parser still reads as MyST in `markdown`: roles, targets, directives, colon fences."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    parser = create_md_parser(MdParserConfig(enable_extensions=set(MYST_EXTENSIONS)), RendererHTML)
    found = []

    def walk(tokens):
        for token in tokens:
            if token.type == "myst_role":
                found.append(f"role {{{token.meta.get('name')}}}`{token.content}`")
            elif token.type == "myst_target":
                found.append(f"target ({token.content})=")
            elif token.type == "colon_fence":
                found.append(f"colon fence :::{token.info}")
            elif token.type == "fence" and token.info.strip().startswith("{"):
                found.append(f"directive {token.info.strip()}")
            walk(token.children or [])

    walk(parser.parse(markdown))
    return found


def output_path(chapter: Path) -> Path:
    return OUT / chapter.resolve().relative_to(ROOT)


def text_of(notebook) -> str:
    import nbformat

    return nbformat.writes(notebook) + "\n"


def stale() -> list[str]:
    """The converted notebooks that are missing or differ from what the chapters convert to now."""
    problems = []
    expected = {output_path(chapter): text_of(convert(chapter)) for chapter in chapters()}
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{_shown(path)}: missing")
        elif path.read_text() != text:
            problems.append(f"{_shown(path)}: differs from its chapter converted now")
    problems += [f"{_shown(path)}: no chapter of _toc.yml converts to it"
                 for path in sorted(OUT.rglob("*.ipynb")) if path not in expected]
    return problems


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@lru_cache(maxsize=None)
def _files_module():
    """`resnet_lib.files`, loaded once from its file: importing the package would import TensorFlow."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_resnet_lib_files", ROOT / "resnet_lib" / "files.py")
    files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(files)
    return files


def write_atomically(path: Path, text: str) -> None:
    """`resnet_lib.files.write_atomically` (temporary file, then os.replace)."""
    _files_module().write_atomically(path, text)


def write() -> list[Path]:
    """Writes every converted chapter that changed (atomically); returns the paths written."""
    written = []
    for chapter in chapters():
        path, text = output_path(chapter), text_of(convert(chapter))
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text)
            path.chmod(0o644)
            written.append(path)
    return written


# --- the website: hand out the converted chapters -----------------------------------------------------


def _replace_sources(app, exception) -> None:
    """After an HTML build, each chapter's `_sources/` copy (the page's download button) becomes its
    Jupyter-ready version, converted from the chapter the build read."""
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for chapter in chapters():
        target = sources / chapter.resolve().relative_to(ROOT)
        if target.exists():
            write_atomically(target, text_of(convert(chapter)))


def setup(app):
    app.connect("build-finished", _replace_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write notebooks/ from the chapters")
    mode.add_argument("--check", action="store_true", help="exit 1 if a converted notebook is missing or stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale()
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("Convert them again with: python tools/jupyter_notebooks.py --write (make notebooks)",
                      file=sys.stderr)
            return 1 if problems else 0
        for path in write():
            print(f"wrote {_shown(path)}")
    except ConversionError as error:
        print(f"jupyter_notebooks: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
