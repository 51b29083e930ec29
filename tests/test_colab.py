"""Does what Colab does: install resnet_lib from a built wheel into a fresh environment outside the
repository, whose other packages are "preinstalled" (as Colab's are), and execute a chapter there."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "02_skip_connections.ipynb"


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_chapter_runs_from_the_installed_wheel_in_a_fresh_environment(tmp_path):
    # 1. Build the wheel, as pip does when Colab installs from the git URL.
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("resnet_lib-*.whl")

    # 2. A fresh virtual environment outside the repository. Colab comes with TensorFlow, Keras,
    #    Jupyter and friends preinstalled: make this environment see the book's stack (but not its
    #    editable resnet_lib, whose .pth hook only runs in its own environment).
    venv = tmp_path / "colab-venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    site_packages = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    Path(site_packages, "preinstalled_stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = "import importlib.util; print(importlib.util.find_spec('resnet_lib'))"
    assert run([str(python), "-c", probe], cwd=tmp_path).strip() == "None", "resnet_lib visible before install"

    # 3. The install cell's job: install the package (from the wheel: no network here).
    run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)])
    location = run([str(python), "-c", "import resnet_lib; print(resnet_lib.__file__)"], cwd=tmp_path).strip()
    assert Path(location).is_relative_to(venv), location

    # 4. The chapter alone in a working folder, with the results files its install cell downloads.
    work = tmp_path / "content"
    (work / "results").mkdir(parents=True)
    shutil.copy(CHAPTER, work)
    notebook = nbformat.read(CHAPTER, as_version=4)
    install_cell = next(c for c in notebook.cells if "colab-install" in c.metadata.get("tags", []))
    for name in json.loads(install_cell.source.split("for name in ")[1].split(":")[0].replace("'", '"')):
        shutil.copy(ROOT / "book" / "results" / name, work / "results" / name)

    # 5. Execute it top to bottom with the fresh environment's kernel.
    script = (
        "import nbformat, sys\n"
        "from nbclient import NotebookClient\n"
        f"notebook = nbformat.read({str(work / CHAPTER.name)!r}, as_version=4)\n"
        "notebook.cells.append(nbformat.v4.new_code_cell('import resnet_lib; print(resnet_lib.__file__)'))\n"
        f"NotebookClient(notebook, timeout=600, kernel_name='python3', resources={{'metadata': {{'path': {str(work)!r}}}}}).execute()\n"
        "outputs = [o for c in notebook.cells if c.cell_type == 'code' for o in c.outputs]\n"
        "assert not [o for o in outputs if o.output_type == 'error']\n"
        "print(len(outputs), 'outputs')\n"
        "print(notebook.cells[-1].outputs[0].text.strip())\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PATH": f"{venv / 'bin'}:{env['PATH']}", "RESNET_BOOK_FAST": "1", "JUPYTER_PATH": str(venv / "share" / "jupyter")}
    run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "python3"], cwd=tmp_path, env=env)
    count, kernel_location = run([str(python), "-c", script], cwd=tmp_path, env=env).strip().splitlines()[-2:]
    assert int(count.split()[0]) > 5
    assert Path(kernel_location).is_relative_to(venv), f"the kernel imported resnet_lib from {kernel_location}"
