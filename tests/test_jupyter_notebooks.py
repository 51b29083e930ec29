"""The chapters as Jupyter, Colab and students read them: no MyST left, drawings that load, working links.

Colab, Jupyter without jupyterlab-myst and nbconvert render markdown cells as CommonMark: MyST's roles,
targets and directives would show as text. `tools/jupyter_notebooks.py` converts the chapters into
`notebooks/book/`, which the Open-in-Colab buttons, the website's download button and `make student`
hand out. Here: those notebooks are current, and rendered by nbconvert's HTML exporter (what Jupyter
does with a markdown cell) they hold no MyST as text, every image is an absolute address of a file in
the repository at the release tag, and every link to the website names the reference list's entries
and the chapters' labels. The same checks, run on the MyST sources, find what the conversion removes.
The student notebooks get the same checks in test_student.py, the links are followed into the built
website and a converted chapter is looked at in Chromium in test_browser.py.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import jupyter_notebooks  # noqa: E402
import release  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks" / "book").glob("*.ipynb"))
# What a plain renderer leaves of MyST, in nbconvert's HTML: a role ({cite} before the code span of its
# content), a target line, a directive fence (a code block of language "{figure}"), its option lines, a
# colon fence.
RENDERED_MYST = {
    "role": re.compile(r"\{[a-z][\w:+-]*\}\s*<code>"),
    "target": re.compile(r"(?:^|>)\s*\([\w-]+\)=", re.MULTILINE),
    "directive": re.compile(r"language-\{|```\{|~~~\{"),
    "directive option": re.compile(r"^:(?:alt|name|width|class|align|figwidth):", re.MULTILINE),
    "colon fence": re.compile(r"(?:^|>):::"),
}
IMAGE = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"", re.IGNORECASE)


def render(notebook) -> str:
    """The notebook as nbconvert's HTML exporter renders it (Jupyter's markdown renderer, no MyST)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return body


def markdown_html(notebook) -> str:
    """The rendered HTML of the notebook's markdown cells only (code may legitimately mention MyST)."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    return render(nbformat.v4.new_notebook(cells=cells, metadata=notebook.metadata))


def rendered_myst(notebook) -> dict[str, list[str]]:
    """{kind: [the text found]} of the MyST a plain renderer shows as text in the notebook."""
    text = markdown_html(notebook)
    found = {kind: pattern.findall(text) for kind, pattern in RENDERED_MYST.items()}
    found["parsed as MyST"] = [what for cell in notebook.cells if cell.cell_type == "markdown"
                               for what in jupyter_notebooks.myst_leftovers(cell.source)]
    return {kind: hits for kind, hits in found.items() if hits}


def image_problems(notebook) -> list[str]:
    """Every image source of the rendered notebook that is not an attachment (nbconvert inlines those as
    data: URIs) or the absolute address of a file of this repository at the release tag."""
    owner, name = release.repository_url().removeprefix("https://github.com/").split("/")
    prefix = f"https://raw.githubusercontent.com/{owner}/{name}/v{release.version()}/"
    problems = []
    for source in IMAGE.findall(render(notebook)):
        source = html.unescape(source)
        if source.startswith(("data:", "attachment:")):
            continue
        if not source.startswith(prefix):
            problems.append(f"{source[:120]}: not an attachment, nor a file of the repository at the release tag")
        elif not (ROOT / source.removeprefix(prefix)).is_file():
            problems.append(f"{source}: no such file in the repository")
    return problems


def test_the_converted_notebooks_are_current():
    assert [path.name for path in NOTEBOOKS] == [path.name for path in jupyter_notebooks.chapters()]
    problems = jupyter_notebooks.stale()
    assert not problems, "run `make notebooks`:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_converted_chapter_rendered_as_jupyter_does_shows_no_myst(path):
    notebook = nbformat.read(path, as_version=4)
    assert not rendered_myst(notebook)
    assert not image_problems(notebook)


def test_the_checks_find_the_myst_of_the_sources():
    """The sources as Jupyter shows them: the MyST the conversion removes, counted (issue: 81 pieces)."""
    counts = {}
    for path in jupyter_notebooks.chapters():
        for kind, hits in rendered_myst(nbformat.read(path, as_version=4)).items():
            counts[kind] = counts.get(kind, 0) + len(hits)
    assert counts["role"] == 68 and counts["target"] == 9 and counts["directive"] == 4, counts
    assert counts["directive option"] == 8 and counts["parsed as MyST"] >= 81, counts


def test_the_image_check_refuses_relative_and_foreign_sources():
    cells = [nbformat.v4.new_markdown_cell("![a drawing](figures/identity_block.svg)"),
             nbformat.v4.new_markdown_cell('<img src="https://example.org/x.png" alt="x">'),
             nbformat.v4.new_markdown_cell(f'<img src="{jupyter_notebooks.raw_url("book/figures/none.png")}" alt="x">')]
    problems = image_problems(nbformat.v4.new_notebook(cells=cells))
    assert len(problems) == 3 and "no such file" in problems[2], problems


def test_code_cells_ids_metadata_and_tags_are_kept_and_no_sentence_is_lost():
    for source, converted in zip(jupyter_notebooks.chapters(), NOTEBOOKS):
        before, after = nbformat.read(source, as_version=4), nbformat.read(converted, as_version=4)
        assert [c.id for c in after.cells[:len(before.cells)]] == [c.id for c in before.cells]
        assert [c.metadata for c in after.cells[:len(before.cells)]] == [c.metadata for c in before.cells]
        assert [c.source for c in after.cells if c.cell_type == "code"] == \
               [c.source for c in before.cells if c.cell_type == "code"]
        # Every word of the source's prose is still there, in order (markup, labels and URLs aside).
        words = re.compile(r"[A-Za-z]{3,}")
        prose = lambda text: words.findall(re.sub(r"\{[\w:]+\}`[^`]*`|\([\w-]+\)=|^:[\w-]+:.*$|(?<=\])\([^)\s]*\)|"
                                                  r"<img[^>]*>|^```.*$", " ", text, flags=re.MULTILINE))
        for old, new in zip(before.cells, after.cells):
            if old.cell_type == "markdown":
                have = iter(prose(new.source))
                missing = [word for word in prose(old.source) if word not in have]
                assert not missing, f"{converted.name}, cell {old.id}: words lost: {missing[:10]}"


def test_citations_carry_the_websites_labels_and_the_chapter_ends_with_its_references():
    chapter = nbformat.read(ROOT / "notebooks" / "book" / "03_identity_block.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in chapter.cells)
    site = jupyter_notebooks.site_url()
    assert f"\\[[He et al., 2016a]({site}book/references.html#cite-he2016deep)\\]" in text
    assert f"\\[[He et al., 2016b]({site}book/references.html#cite-he2016identity)\\]" in text
    assert f"[5. ResNet50]({site}book/05_resnet50.html#chapter-resnet50)" in text
    references = chapter.cells[-1]
    assert references.id == jupyter_notebooks.REFERENCES_CELL_ID and references.source.startswith("## References")
    assert "- **He et al., 2016a.** Kaiming He, Xiangyu Zhang, Shaoqing Ren, and Jian Sun" in references.source
    cited = set(re.findall(r"#cite-([\w-]+)\)", text.replace(references.source, "")))
    listed = re.findall(r"^- \*\*(.+?)\.\*\*", references.source, re.MULTILINE)
    assert len(listed) == len(cited) == 4


def test_a_figure_becomes_an_image_with_its_alt_text_width_and_caption():
    chapter = nbformat.read(ROOT / "notebooks" / "book" / "03_identity_block.ipynb", as_version=4)
    (cell,) = [cell for cell in chapter.cells if "<img" in cell.source]
    (image,) = re.findall(r"<img [^>]+>", cell.source)
    assert f'src="{jupyter_notebooks.raw_url("book/figures/identity_block.png")}"' in image
    assert 'alt="Diagram of the identity block conv2_block2 of ResNet50' in image and 'width="400"' in image
    assert "*Figure.* The identity block `conv2_block2` of ResNet50 for a 224×224 image" in cell.source


def convert_markdown(tmp_path, markdown: str) -> str:
    """`markdown` as one cell of a chapter of the book, converted (the chapter lives in book/ for the run)."""
    path = ROOT / "book" / f"_test_{tmp_path.name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)]), path)
    try:
        return jupyter_notebooks.convert(path).cells[0].source
    finally:
        path.unlink()


def test_admonitions_math_docs_and_explicit_titles_convert(tmp_path):
    converted = convert_markdown(tmp_path, "\n".join([
        ":::{note}", "Batch norm {cite}`ioffe2015batch` is in every block.", ":::", "",
        "```{admonition} Why zero?", "So that the branch starts silent.", "```", "",
        "```{math}", "y = F(x) + x", "```", "",
        "See {doc}`the references <references>` and {ref}`the first chapter <chapter-why-deep-fails>`.",
        "Code stays code: `{cite}` and ``{ref}`x` ``.",
    ]))
    site = jupyter_notebooks.site_url()
    assert converted.startswith("> **Note**\n>\n> Batch norm \\[[Ioffe and Szegedy, 2015](")
    assert "> **Why zero?**\n>\n> So that the branch starts silent." in converted
    assert "$$\ny = F(x) + x\n$$" in converted
    assert f"[the references]({site}book/references.html)" in converted
    assert f"[the first chapter]({site}book/01_why_deep_plain_networks_fail.html#chapter-why-deep-fails)" in converted
    assert "Code stays code: `{cite}` and ``{ref}`x` ``." in converted


@pytest.mark.parametrize("markdown, message", [
    ("{eval}`1 + 1`", r"the role \{eval\}`1 \+ 1` has no Jupyter equivalent"),
    ("```{glue:figure} x\n```", r"the directive \{glue:figure\} has no Jupyter equivalent"),
    ("{cite}`nobody2099`", r"no entry 'nobody2099' in the book's .bib file"),
    ("{ref}`no-such-label`", r"no target \(no-such-label\)= or figure :name: no-such-label"),
    ("```{figure} figures/identity_block.svg\n:name: x\n\nA caption.\n```", r"has no :alt: text"),
    ("```{figure} figures/nothing.svg\n:alt: x\n```", r"book/figures/nothing.png does not exist"),
    ("```{note}\nnever closed", r"line 1: the fence ``` opened here is never closed"),
])
def test_what_cannot_be_converted_stops_the_conversion_naming_cell_and_line(tmp_path, markdown, message):
    with pytest.raises(jupyter_notebooks.ConversionError, match=message):
        convert_markdown(tmp_path, markdown)


def test_the_check_command_fails_on_a_stale_notebook_and_names_it(tmp_path, monkeypatch):
    out = tmp_path / "notebooks"
    monkeypatch.setattr(jupyter_notebooks, "OUT", out)
    assert jupyter_notebooks.main(["--write"]) == 0
    assert jupyter_notebooks.main(["--check"]) == 0
    stale = out / "book" / "03_identity_block.ipynb"
    notebook = json.loads(stale.read_text())
    notebook["cells"][0]["source"] = "# an older title\n"
    stale.write_text(json.dumps(notebook, indent=1))
    (out / "book" / "99_orphan.ipynb").write_text(stale.read_text())
    assert jupyter_notebooks.stale() == [f"{stale}: differs from its chapter converted now",
                                         f"{out}/book/99_orphan.ipynb: no chapter of _toc.yml converts to it"]
    assert jupyter_notebooks.main(["--check"]) == 1


def test_release_check_includes_the_notebooks():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "release.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_make_lab_opens_the_sources_in_a_jupyterlab_that_loads_jupyterlab_myst():
    """`make lab`: JupyterLab on book/, with jupyterlab-myst enabled and loadable (JupyterLab marks an
    extension built for another version of its packages with an X and does not load it)."""
    scripts = Path(sys.executable).parent
    listing = subprocess.run([str(scripts / "jupyter"), "labextension", "list"], capture_output=True, text=True)
    output = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    (line,) = [line for line in output.splitlines() if "jupyterlab-myst" in line and " v" in line]
    assert "enabled" in line and line.split()[3] == "OK", output
    assert "not compatible" not in output, output
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "lab"], capture_output=True, text=True, cwd=ROOT)
    assert dry_run.stdout.strip().splitlines()[-1].endswith("/bin/jupyter lab book/"), dry_run.stdout
