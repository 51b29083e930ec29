"""The book's sources: notebooks stored clean, Colab cells in sync, every chapter shaped alike."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
#: What each chapter writes out in code the reader runs, and the cell that proves it is the library's: the
#: functions the chapter defines, and what that cell must contain (the call of the chapter's code, the library's
#: counterpart, the comparisons). Chapter 7 compares with the run `live` of the library's `explorer.train_now`;
#: chapter 8 compares directions array by array and the predictions of every identity block deleted.
CHAPTER_CODE = {
    "01_why_deep_plain_networks_fail.ipynb": {
        "defines": ("plain_block", "plain_network"),
        "proof": ("plain_network(", "resnet_lib.build_network(", "get_config()", "count_params()",
                  "resnet_lib.transfer_weights(", "np.array_equal("),
    },
    "02_skip_connections.ipynb": {
        "defines": ("residual_block", "residual_network"),
        "proof": ("residual_network(", "resnet_lib.build_network(", "get_config()", "count_params()",
                  "resnet_lib.transfer_weights(", "np.array_equal("),
    },
    "07_depth_explorer.ipynb": {
        "defines": ("learning_rate_schedule", "shift_images", "train_one"),
        "proof": ("train_one(", 'live["loss"]', 'live["accuracy"]'),
        "library_run": r"^live = explorer\.train_now\(",
    },
    "08_why_residual_networks_train.ipynb": {
        "defines": ("filter_normalized_direction", "delete_block"),
        "proof": ("filter_normalized_direction(model", "landscape.filter_normalized_direction(", "delete_block(model",
                  "lesion.delete_blocks(", "np.array_equal("),
    },
}


def cells(path, kind=None):
    notebook = json.loads(path.read_text())
    return [c for c in notebook["cells"] if kind is None or c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    dirty = [i for i, c in enumerate(cells(path, "code")) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} have stored outputs; clear them before committing"


def test_colab_cells_links_and_footer_name_one_release():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "release.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_version_tag_and_links_agree():
    """Read independently of tools/release.py: the package's version, the Colab links' branch, the
    footer and every install cell name the same release tag."""
    import resnet_lib

    tag = f"v{resnet_lib.__version__}"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    assert config["repository"]["branch"] == tag, "the Open-in-Colab links open another version than the release"
    assert f"/releases/tag/{tag}" in config["html"]["extra_footer"]
    for path in NOTEBOOKS:
        install = [source(c) for c in cells(path, "code") if "colab-install" in c["metadata"].get("tags", [])]
        assert len(install) == 1, f"{path.name} needs exactly one Colab install cell"
        assert re.findall(r"git\+(\S+?)@(v[\w.]+)", install[0]) == [(url, tag)], path.name


@pytest.mark.slow  # copies the repository and runs tools/release.py
def test_the_release_check_fails_when_the_version_moves(tmp_path):
    import shutil

    # What release.py reads and writes: the configuration, the chapters, their Jupyter versions (which
    # tools/jupyter_notebooks.py makes from the chapters, the table of contents, the .bib and the figures).
    for name in ("tools", "book", "notebooks"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("node_modules", "static"))
    for name in ("_config.yml", "_toc.yml", "resnet_lib/__init__.py", "resnet_lib/files.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    init = tmp_path / "resnet_lib" / "__init__.py"
    init.write_text(re.sub(r'__version__ = "[^"]+"', '__version__ = "9.9.9"', init.read_text()))
    check = [sys.executable, str(tmp_path / "tools" / "release.py"), "--check"]
    result = subprocess.run(check, capture_output=True, text=True)
    assert result.returncode == 1 and "9.9.9" in result.stderr and "_config.yml" in result.stderr, result.stderr
    assert "notebooks/book/03_identity_block.ipynb: differs from its chapter converted now" in result.stderr
    subprocess.run([sys.executable, str(tmp_path / "tools" / "release.py"), "--write"], check=True, capture_output=True)
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0
    assert "branch: v9.9.9" in (tmp_path / "_config.yml").read_text()
    converted = (tmp_path / "notebooks" / "book" / "03_identity_block.ipynb").read_text()
    assert "/v9.9.9/book/figures/identity_block.png" in converted and "@v9.9.9" in converted


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_download_nothing_unless_the_reader_asks(path):
    code = "\n".join(source(c) for c in cells(path, "code"))
    for download in ("urlretrieve", "urlopen", "requests.get", "wget ", "curl "):
        assert download not in code, f"{path.name} downloads with {download!r}"
    for cell in cells(path, "code"):
        text = source(cell)
        if re.search(r"load_dataset\((?!\s*(?:\"digits\"|\w+=|\)))|load_pretrained_resnet50\(|weights=\"imagenet\"", text):
            flag = re.search(r"^(DOWNLOAD_\w+) = (\w+)", text, re.MULTILINE)
            is_colab_only = 'if "google.colab" in sys.modules' in text
            assert (flag and flag.group(2) == "False") or is_colab_only, \
                f"{path.name}: a cell loads a data set or weights that need a download, without a flag set to False"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_shape(path):
    markdown = "\n".join(source(c) for c in cells(path, "markdown"))
    code = "\n".join(source(c) for c in cells(path, "code"))
    assert re.search(r"^\(chapter-[a-z0-9-]+\)=", source(cells(path)[0]), re.MULTILINE), "first cell needs a MyST label"
    for heading in ("What you'll do", "What you'll learn", "What you'll need", "Summary", "Exercises"):
        assert heading in markdown, f"{path.name} lacks a '{heading}' section"
    assert "import resnet_lib" in code or "from resnet_lib" in code


def defining_cell(sources, function):
    """Index of the one code cell (among `sources`) that defines `function`."""
    found = [i for i, text in enumerate(sources) if re.search(rf"^def {function}\(", text, re.MULTILINE)]
    assert len(found) == 1, f"`def {function}(` must be in exactly one code cell, found in cells {found}"
    return found[0]


def proof_cell(name):
    """The chapter's code cells, and the index of the one that proves its code is the library's (CHAPTER_CODE)."""
    sources = [source(c) for c in cells(ROOT / "book" / name, "code")]
    after = max(defining_cell(sources, function) for function in CHAPTER_CODE[name]["defines"])
    found = [i for i, text in enumerate(sources) if i > after and re.search(r"^\s*assert ", text, re.MULTILINE)
             and all(part in text for part in CHAPTER_CODE[name]["proof"])]
    assert found, (f"{name}: no code cell after the definitions asserts that they equal the library's, with all of "
                   f"{CHAPTER_CODE[name]['proof']}")
    return sources, found[0]


@pytest.mark.parametrize("name", CHAPTER_CODE)
def test_chapters_define_what_they_teach(name):
    """The chapter defines its functions once, and no other chapter defines a second copy."""
    for function in CHAPTER_CODE[name]["defines"]:
        defining_cell([source(c) for c in cells(ROOT / "book" / name, "code")], function)
        elsewhere = [p.name for p in NOTEBOOKS if p.name != name
                     and re.search(rf"^def {function}\(", "\n".join(source(c) for c in cells(p, "code")), re.MULTILINE)]
        assert not elsewhere, f"{function} of {name} is defined again in {elsewhere}; the library holds the shared copy"


@pytest.mark.parametrize("name", CHAPTER_CODE)
def test_a_cell_proves_the_chapter_code_is_the_library(name):
    sources, proof = proof_cell(name)
    if "library_run" in CHAPTER_CODE[name]:
        assert any(re.search(CHAPTER_CODE[name]["library_run"], text, re.MULTILINE) for text in sources[:proof]), \
            f"{name}: the run the proof compares with does not come from the library before the proof"


@pytest.mark.parametrize("name", CHAPTER_CODE)
def test_after_the_proof_the_chapter_uses_the_library(name):
    sources, proof = proof_cell(name)
    for index, text in enumerate(sources[proof + 1:], start=proof + 1):
        calls = [f for f in CHAPTER_CODE[name]["defines"] if re.search(rf"(?<![\w.]){f}\(", text)]
        assert not calls, f"{name}, code cell {index}: calls the chapter's {calls} after the proof; use resnet_lib"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text(path):
    for index, cell in enumerate(cells(path, "code")):
        text = source(cell)
        draws = re.search(r"\bplt\.|plot_|show_images\(|plot_model\(", text) and "def " not in text
        if draws and "image" not in cell["metadata"].get("mystnb", {}):
            pytest.fail(f"{path.name}, code cell {index}: draws a figure without mystnb.image.alt metadata")
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")
        if alt is not None:
            assert len(alt) > 20, f"{path.name}, code cell {index}: alt text too short to describe the figure"


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for path in NOTEBOOKS:
        assert f"book/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    assert yaml.safe_load(toc)["root"] == "book/intro"


def test_every_checked_cell_has_a_recorded_output():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "expected_outputs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


#: The cell tag that has nbval compare a cell's output (tools/expected_outputs.py records it).
CHECK_TAG = "nbval-check-output"


def recorded_outputs(path) -> dict:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from expected_outputs import load_expected
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return load_expected(path)


def output_key(cell) -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from expected_outputs import cell_key
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return cell_key(source(cell))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_are_tagged_not_marked_in_their_code(path):
    """nbval's markers are cell tags, which the website does not show: no cell of a chapter, code or
    markdown, says "NBVAL", and every cell tagged nbval-check-output has a recorded output."""
    marked = [i for i, cell in enumerate(cells(path)) if "NBVAL" in source(cell)]
    assert not marked, (f"{path.name}, cells {marked}: 'NBVAL' in the source, which the website prints; "
                        f"use the cell tag {CHECK_TAG!r} instead of nbval's comment markers")
    recorded = recorded_outputs(path)
    tagged = [(i, cell) for i, cell in enumerate(cells(path)) if CHECK_TAG in cell["metadata"].get("tags", [])]
    assert tagged, f"{path.name}: no cell tagged {CHECK_TAG!r}, so nbval compares no output of this chapter"
    for index, cell in tagged:
        assert cell["cell_type"] == "code", f"{path.name}, cell {index}: a {cell['cell_type']} cell tagged {CHECK_TAG}"
        assert output_key(cell) in recorded, (f"{path.name}, cell {index}: tagged {CHECK_TAG} but no recorded "
                                              f"output; run tools/expected_outputs.py --write book/{path.name}")


#: The width of the website's code column at 1280 px: longer lines scroll sideways there.
COLUMN = 88
#: MyST directives that show their content as code; every other `{directive}` fence holds text.
CODE_DIRECTIVES = {"{code}", "{code-block}", "{code-cell}", "{sourcecode}"}


def fenced_code_lines(text):
    """(line number, line, info string) for every line inside a fenced code block of Markdown `text`,
    also inside MyST directives such as {note}; the content of other directives ({figure}: caption and
    options) is not code."""
    lines, stack = [], []  # stack of open fences: (fence character, length, is code)
    for number, line in enumerate(text.split("\n"), start=1):
        fence = re.match(r"^\s*(`{3,}|~{3,})\s*(\S*)", line)
        if stack and stack[-1][2]:
            character, length, _ = stack[-1]
            if fence and fence.group(1)[0] == character and len(fence.group(1)) >= length and not fence.group(2):
                stack.pop()
            else:
                lines.append((number, line, info))
            continue
        if fence:
            character, length, word = fence.group(1)[0], len(fence.group(1)), fence.group(2)
            if stack and not word and character == stack[-1][0] and length >= stack[-1][1]:
                stack.pop()  # the end of a directive
            else:
                info = word
                stack.append((character, length, not word.startswith("{") or word in CODE_DIRECTIVES))
    return lines


def long_code_lines(path):
    """'where: length: line' for every line of code over COLUMN characters in a chapter or page."""
    found = []
    if path.suffix == ".ipynb":
        for index, cell in enumerate(cells(path)):
            if cell["cell_type"] == "code":
                numbered = [(n, line) for n, line in enumerate(source(cell).split("\n"), start=1)]
            else:
                numbered = [(n, line) for n, line, _ in fenced_code_lines(source(cell))]
            found += [f"{path.name}, cell {index} ({cell['cell_type']}), line {n}: {len(line)} characters: {line}"
                      for n, line in numbered if len(line) > COLUMN]
    else:
        for n, line, info in fenced_code_lines(path.read_text()):
            if len(line) > COLUMN:
                found.append(f"{path.name}, line {n}: {len(line)} characters: {line}")
    return found


@pytest.mark.parametrize("path", [*NOTEBOOKS, *sorted((ROOT / "book").glob("*.md"))], ids=lambda p: p.name)
def test_code_fits_the_column(path):
    """Every line of every code cell, and of every fenced code block in the pages and markdown cells,
    fits the website's code column of 88 characters."""
    found = long_code_lines(path)
    assert not found, f"code lines over {COLUMN} characters:\n" + "\n".join(found)


def test_the_column_check_finds_long_lines_and_only_in_code():
    text = ("Prose may run on " + "long " * 30 + "\n\n```python\nshort = 1\n" + "x = " + "1 + " * 30 + "1\n```\n"
            + "```{figure} figure.svg\n:alt: " + "an alt text " * 20 + "\n\nA caption " + "long " * 30 + "\n```\n"
            + "````{note}\n```bash\n" + "echo " * 30 + "\n```\n" + "A note " * 30 + "\n````\n")
    assert [(number, info) for number, line, info in fenced_code_lines(text) if len(line) > COLUMN] == \
        [(5, "python"), (14, "bash")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_recorded_outputs_fit_the_column(path):
    """The recorded outputs of the checked cells, a sample of what the chapters print, fit the
    column too (the browser test checks every output of the built website)."""
    found = [f"{path.name}: {len(line)} characters: {line}"
             for outputs in recorded_outputs(path).values() for output in outputs
             for line in "".join(output.get("text", "")).split("\n") if len(line) > COLUMN]
    assert not found, f"printed lines over {COLUMN} characters:\n" + "\n".join(found)


# --- What the website shows its reader: citations, the introduction's promises, formulas, the live run of
# chapter 6, the favicon.

BIBLIOGRAPHY = ROOT / "book" / "references.bib"


def markdown_of(path):
    """The prose of a chapter notebook or a page."""
    if path.suffix == ".ipynb":
        return "\n\n".join(source(c) for c in cells(path, "markdown"))
    return path.read_text()


def cited_keys():
    return {key.strip() for path in [*NOTEBOOKS, *(ROOT / "book").glob("*.md")]
            for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", markdown_of(path)) for key in keys.split(",")}


def citation_sphinx_config():
    """The book's citation settings, from _config.yml: the bibtex options and the local extensions that
    register a pybtex style (as sphinxcontrib-bibtex documents it), with where they live."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    options = {k: v for k, v in config["sphinx"]["config"].items() if k.startswith("bibtex_")}
    extensions = {name: ROOT / folder for name, folder in config["sphinx"].get("local_extensions", {}).items()
                  if "register_plugin" in (ROOT / folder / f"{name}.py").read_text()}
    return options, extensions


def test_every_citation_has_an_entry():
    from pybtex.database import parse_file

    missing = cited_keys() - set(parse_file(str(BIBLIOGRAPHY)).entries)
    assert not missing, f"cited but not in {BIBLIOGRAPHY.name}: {sorted(missing)}"
    assert {"he2016deep", "he2016identity"} <= cited_keys()


def test_citation_labels_are_author_year_and_tell_the_two_2016_papers_apart():
    """The reference list shows each entry under the label its pybtex style gives it; with
    `bibtex_reference_style: label` the citations in the text are that same label."""
    import pybtex.plugin
    from pybtex.database import parse_file

    options, extensions = citation_sphinx_config()
    assert options.get("bibtex_reference_style") == "label", \
        "citations must show the reference list's labels (bibtex_reference_style: label)"
    sys.path[:0] = [str(folder) for folder in extensions.values()]
    try:
        for name in extensions:
            __import__(name).setup(None)
    finally:
        del sys.path[:len(extensions)]
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", options.get("bibtex_default_style", "alpha"))()
    labels = {entry.key: entry.label for entry in style.format_entries(parse_file(str(BIBLIOGRAPHY)).entries.values())}
    assert labels["he2016deep"] == "He et al., 2016a" and labels["he2016identity"] == "He et al., 2016b", labels
    assert labels["ioffe2015batch"] == "Ioffe and Szegedy, 2015"
    assert labels["peixeiro2019hitchhiker"] == "Peixeiro, 2019"
    assert len(set(labels.values())) == len(labels), f"two entries share a label: {labels}"
    for key, label in labels.items():
        assert re.fullmatch(r"[^\[\],]+, (\d{4}[a-z]?|n\.d\.)", label), f"{key}: {label!r} is not author, year"


def test_rendered_citations_carry_the_label_of_the_entry_they_link_to(tmp_path):
    """A small Sphinx build with the book's bibliography, citation settings and favicon (warnings are
    errors): every citation's text is the label of the reference-list entry it links to."""
    options, extensions = citation_sphinx_config()
    favicon = ROOT / yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["favicon"]
    source_dir, out = tmp_path / "source", tmp_path / "html"
    source_dir.mkdir()
    (source_dir / "conf.py").write_text(
        "import sys\n"
        f"sys.path[:0] = {[str(folder) for folder in extensions.values()]!r}\n"
        f"extensions = ['sphinxcontrib.bibtex', *{list(extensions)!r}]\n"
        f"bibtex_bibfiles = [{str(BIBLIOGRAPHY)!r}]\n"
        f"html_favicon = {str(favicon)!r}\n"
        + "".join(f"{key} = {value!r}\n" for key, value in options.items() if key != "bibtex_bibfiles"))
    keys = sorted(cited_keys())
    (source_dir / "index.rst").write_text(
        "Chapter\n=======\n\n" + "".join(f"Cited :cite:`{key}`.\n\n" for key in keys)
        + ".. toctree::\n\n   references\n")
    (source_dir / "references.rst").write_text("References\n==========\n\n.. bibliography::\n   :all:\n")
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html", str(source_dir), str(out)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]

    page, references = (out / "index.html").read_text(), (out / "references.html").read_text()
    entries = {target: re.sub(r"<[^>]+>", "", label) for target, label in
               re.findall(r'<div class="citation" id="([^"]+)"[^>]*>\s*<span class="label">'
                          r'<span class="fn-bracket">\[</span>(.*?)<span class="fn-bracket">\]</span>',
                          references, re.DOTALL)}
    citations = [(target, re.sub(r"<[^>]+>", "", text)) for target, text in
                 re.findall(r'<a class="reference internal" href="references\.html#([^"]+)"[^>]*>(.*?)</a>', page)]
    assert len(citations) == len(keys) and len(entries) >= len(keys), (citations, entries)
    for target, text in citations:
        assert entries.get(target) == text, f"the citation [{text}] links to the entry labelled [{entries.get(target)}]"
    he = [text for text in dict(citations).values() if text.startswith("He et al., 2016")]
    assert sorted(he) == ["He et al., 2016a", "He et al., 2016b"], he
    assert re.search(r'<link rel="icon" href="_static/' + re.escape(favicon.name) + '"', page)
    assert (out / "_static" / favicon.name).read_bytes() == favicon.read_bytes()


def test_the_website_has_a_favicon():
    import xml.etree.ElementTree as ElementTree

    path = ROOT / yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["favicon"]
    assert path.is_file() and path.stat().st_size < 10_000, path
    if path.suffix == ".svg":
        root = ElementTree.parse(path).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox"), "not a standalone SVG"
    else:
        assert path.suffix == ".png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_introduction_promises_nothing_the_website_cannot_do():
    """The website has no kernel: the introduction says what works there (outputs, the explorer's
    precomputed views) and sends live training to Colab or Jupyter, in every sentence that offers it."""
    intro = (ROOT / "book" / "intro.md").read_text()
    website = re.search(r"^- \*\*On the website\*\*(.*?)(?=^- \*\*)", intro, re.MULTILINE | re.DOTALL)
    assert website, "intro.md: no '- **On the website**' item under 'How to use this book'"
    for needed in ("no kernel", "explorer", "precomputed", "Colab", "Jupyter"):
        assert needed in website.group(1), f"the website item of intro.md does not mention {needed!r}"
    sentences = re.split(r"(?<=[.!?:])\s+", re.sub(r"\s+", " ", intro))
    for sentence in sentences:
        if re.search(r"\bbutton\b|\blive\b|\btrain\w*\b.*\b(yourself|your own|of your choice)\b", sentence):
            assert re.search(r"Colab|Jupyter|kernel", sentence), \
                f"intro.md offers something live without saying it needs Colab or Jupyter: {sentence!r}"


def prose_outside_code_and_math(text):
    for pattern in (r"```.*?```", r"^:::.*?^:::", r"\$\$.*?\$\$"):
        text = re.sub(pattern, " ", text, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"\$[^$\n]+\$|`[^`\n]*`", " ", text)


PLAIN_TEXT_FORMULAS = {
    "a subscript written with _": r"\b[A-Za-z]{1,3}_(?:in|out|[a-z0-9])\b",
    "a product of symbols written with × or ·": r"\b[A-Za-z]+\s*[×·]\s*[A-Za-z]+\b",
    "a symbolic exponent in Unicode": r"[ⁱⁿˣʸᵏᵐ]",
    "an equation of a Greek symbol": r"[α-ωΑ-Ω]\s*=",
    "a function applied to a symbol": r"\b(?:ReLU|F)\([A-Za-z]",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_formulas_are_written_as_math(path):
    """Formulas in the prose are MyST math ($...$, $$...$$), which the website typesets, not plain text."""
    prose = prose_outside_code_and_math(markdown_of(path))
    for what, pattern in PLAIN_TEXT_FORMULAS.items():
        found = re.findall(pattern, prose)
        assert not found, f"{path.name}: {what} outside $...$: {found}"


def test_chapter_6_prints_the_momentum_its_live_run_trains_with():
    """Chapter 6 prints the full-length run's recipe (batch-norm momentum 0.9), then trains live and
    explains the live result with the momentum of Keras' default. The cell that prints the recipe must
    also print the momentum the live model trains with, read from the model (its recorded output is
    compared with a real execution by the chapter tests), nothing may change it before the live `fit`,
    and the text after the run must speak of that momentum."""
    path = ROOT / "book" / "06_training_resnet50.ipynb"
    notebook = cells(path)
    code = [i for i, c in enumerate(notebook) if c["cell_type"] == "code"]
    fit = [i for i in code if re.search(r"^\s*live = model\.fit\(", source(notebook[i]), re.MULTILINE)]
    recipe = [i for i in code if "recipe of the full-length run" in source(notebook[i])]
    assert len(fit) == 1 and len(recipe) == 1 and recipe[0] < fit[0], "chapter 6: one recipe cell, then one live fit"
    recipe_source = source(notebook[recipe[0]])
    assert CHECK_TAG in notebook[recipe[0]]["metadata"].get("tags", []), "the recipe cell's output is not checked"
    assert re.search(r"layer\.momentum for layer in model\.layers", recipe_source), \
        "the recipe cell must read the live model's batch-norm momentum from its layers"
    for i in code:
        if recipe[0] < i <= fit[0]:
            assert not re.search(r"\.momentum\s*=", source(notebook[i])), "the momentum changes after it was printed"

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from expected_outputs import cell_key, load_expected
    finally:
        sys.path.remove(str(ROOT / "tools"))
    printed = "".join(output.get("text", "") for output in load_expected(path).get(cell_key(recipe_source), []))
    assert "recipe of the full-length run" in printed, "no recorded output for the recipe cell of chapter 6"
    live = re.search(r"^.*live run.*momentum (0\.\d+).*$", printed, re.MULTILINE)
    assert live, f"chapter 6 prints the full-length recipe but not the momentum the live run trains with:\n{printed}"
    explanation = source(next(c for c in notebook[fit[0] + 1:] if c["cell_type"] == "markdown"))
    assert f"${live.group(1)}^n$" in explanation, \
        f"the live run trains with momentum {live.group(1)}; the text after it should explain the run with it"
