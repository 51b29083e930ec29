"""No answer leaks into a student notebook, through any cell.

The build removes the solution regions, but an answer can also be spelled out elsewhere: a
teaching cell that writes a variant of the block by hand, a walkthrough that re-types the stage
loop, a markdown cell. This test reads the solution regions of every chapter with its own parser
(not the build's) and looks for each of their lines, of at least 16 characters after collapsing
whitespace, in every cell of every student notebook, code and markdown alike. It ran against the
chapters as they were before the fix and found 9 of the 12 lines of chapter 4's answer and 8 of
the 10 of chapter 3's in chapter 4's hand-written ResNet v1.5 block, and 4 of the 14 of chapter 5's
in its stride-2 walkthrough; `test_the_search_finds_the_leaks_the_chapters_used_to_have` keeps
those two cells as evidence that it can fail.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MINIMUM = 16  # shorter lines (`return x`, `shortcut = x`) occur in any Keras code


def normalise(line: str) -> str:
    return " ".join(line.split())


def cell_text(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def solution_lines(notebook: dict) -> set[str]:
    """The lines between `### BEGIN SOLUTION` and `### END SOLUTION`, in any cell, normalised."""
    found, inside = set(), False
    for cell in notebook["cells"]:
        for line in cell_text(cell).splitlines():
            marker = normalise(line)
            if marker == "### BEGIN SOLUTION":
                inside = True
            elif marker == "### END SOLUTION":
                inside = False
            elif inside and len(marker) >= MINIMUM:
                found.add(marker)
        assert not inside, "a solution region runs past the end of its cell"
    return found


def all_solution_lines() -> dict[str, set[str]]:
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    return {path.name: lines for path in chapters if (lines := solution_lines(json.loads(path.read_text())))}


def leaks(notebook: dict, solutions: dict[str, set[str]]) -> list[tuple[int, str, str]]:
    """(cell index, chapter of the answer, line) for every solution line found in `notebook`."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        lines = [normalise(line) for line in cell_text(cell).splitlines()]
        for chapter, answer in solutions.items():
            found += [(index, chapter, line) for line in sorted(answer) if any(line in text for text in lines)]
    return found


@pytest.fixture(scope="module")
def solutions():
    found = all_solution_lines()
    assert set(found) == {"03_identity_block.ipynb", "04_convolutional_block.ipynb", "05_resnet50.ipynb",
                          "06_training_resnet50.ipynb", "08_why_residual_networks_train.ipynb"}
    assert all(len(lines) >= 3 for lines in found.values()), "solution regions too short to search for"
    return found


@pytest.fixture(scope="module")
def student_notebooks(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "tools"))
    import student_build

    out = tmp_path_factory.mktemp("student")
    student_build.build(out)
    return {path.name: json.loads(path.read_text()) for path in sorted(out.glob("*.ipynb"))}


def test_no_solution_line_of_any_chapter_is_in_any_student_notebook(solutions, student_notebooks):
    assert len(student_notebooks) == len(list((ROOT / "book").glob("[0-9][0-9]_*.ipynb")))
    found = {name: leaks(notebook, solutions) for name, notebook in student_notebooks.items()}
    report = [f"{name}, cell {index}: a line of {chapter}'s answer: {line}"
              for name, hits in found.items() for index, chapter, line in hits]
    assert not report, "answers in the student notebooks:\n" + "\n".join(report)


# Two cells of the chapters before the fix (chapter 4's ResNet v1.5 block and chapter 5's stride-2
# walkthrough), kept as evidence that the search above catches a real leak.
OLD_CHAPTER_4_V1_5_CELL = '''\
def v1_5_convolutional_block(x, filters, kernel_size=3, stride=2, *, prefix):
    # ResNet v1.5: like resnet_lib.convolutional_block, but the branch's stride is on the 3x3 convolution.
    filters1, filters2, filters3 = filters
    shortcut = layers.Conv2D(filters3, 1, strides=stride, name=f"{prefix}_0_conv")(x)
    shortcut = layers.BatchNormalization(epsilon=1.001e-5, name=f"{prefix}_0_bn")(shortcut)

    x = layers.Conv2D(filters1, 1, name=f"{prefix}_1_conv")(x)  # no stride here ...
    x = layers.BatchNormalization(epsilon=1.001e-5, name=f"{prefix}_1_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_1_relu")(x)
    x = layers.Conv2D(filters2, kernel_size, strides=stride, padding="same", name=f"{prefix}_2_conv")(x)  # ... but here
    x = layers.BatchNormalization(epsilon=1.001e-5, name=f"{prefix}_2_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_2_relu")(x)
    x = layers.Conv2D(filters3, 1, name=f"{prefix}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5, name=f"{prefix}_3_bn")(x)

    x = layers.Add(name=f"{prefix}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{prefix}_out")(x)'''

OLD_CHAPTER_5_WALKTHROUGH_CELL = '''\
def stack_stages(x, stages):
    for stage, filters, blocks, stride in stages:
        x = resnet_lib.convolutional_block(x, filters, stride=stride, stage=stage, block=1)
        for block in range(2, blocks + 1):
            x = resnet_lib.identity_block(x, filters, stage=stage, block=block)
    return x


walkthrough_stages = [(stage, filters, blocks, 2) for stage, filters, blocks, _ in resnet_lib.RESNET50_STAGES]
x = stack_stages(model.get_layer("pool1_pool").output, walkthrough_stages)
x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
outputs = layers.Dense(6, activation="softmax", name="predictions")(x)
stride_two_model = keras.Model(model.input, outputs, name="resnet50_stage2_stride2")'''


def test_the_search_finds_the_leaks_the_chapters_used_to_have(solutions):
    def count(cell_source, chapter):
        return sum(1 for _, where, _ in leaks({"cells": [{"cell_type": "code", "source": cell_source}]}, solutions)
                   if where == chapter)

    assert count(OLD_CHAPTER_4_V1_5_CELL, "04_convolutional_block.ipynb") >= 9
    assert count(OLD_CHAPTER_4_V1_5_CELL, "03_identity_block.ipynb") >= 7
    assert count(OLD_CHAPTER_5_WALKTHROUGH_CELL, "05_resnet50.ipynb") >= 3
    # in markdown too, whatever the runs of whitespace and with a comment after it
    markdown = {"cell_type": "markdown", "source": "Compare:\n\n    x  =  layers.Add(name=f\"{prefix}_add\")([shortcut, x])  # sum"}
    assert {chapter for _, chapter, _ in leaks({"cells": [markdown]}, solutions)} == {
        "03_identity_block.ipynb", "04_convolutional_block.ipynb"}
