"""Where an experiment may write its result: never inside the resnet_lib package, never over a file git tracks."""

from __future__ import annotations

from pathlib import Path

#: The resnet_lib package: the shipped results live in it, and no run writes there.
PACKAGE = Path(__file__).resolve().parents[1]


def output_path(out) -> Path:
    """`out` as the file an experiment writes; refuses any place inside the resnet_lib package.

    Raises:
        ValueError: `out` lies inside the package (where the shipped results live, or site-packages).
    """
    out = Path(out)
    if out.resolve().is_relative_to(PACKAGE):
        raise ValueError(
            f"`--out` must not lie inside the resnet_lib package ({PACKAGE}), received {str(out)!r}: the results "
            "shipped there are replaced only by `make results`, once a run is complete. Write elsewhere, e.g. "
            f"--out {out.name} (the current folder)."
        )
    if tracked_by_git(out):
        raise ValueError(
            f"`--out` {str(out)!r} is a file committed to git; a run never writes over a committed file. Write "
            f"elsewhere (e.g. --out {out.stem}.new{out.suffix}) and replace it yourself once the run is complete."
        )
    return out


def tracked_by_git(path: Path) -> bool:
    """True if `path` is an existing file that git tracks (False where git or a repository is absent)."""
    import shutil
    import subprocess

    if not path.is_file() or shutil.which("git") is None:
        return False
    result = subprocess.run(["git", "ls-files", "--error-unmatch", "--", path.resolve().name],
                            cwd=path.resolve().parent, capture_output=True)
    return result.returncode == 0
