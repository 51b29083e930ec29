"""Book-wide settings: the fast mode that tests use to execute every chapter quickly.

Set the environment variable `RESNET_BOOK_FAST=1` (the test suite does) and chapters shrink their
live runs: fewer epochs, fewer images. Heavy results always come from the files shipped in
`resnet_lib.results`, so fast mode never changes what a chapter concludes.
"""

from __future__ import annotations

import os

FAST_MODE_VARIABLE = "RESNET_BOOK_FAST"


def fast_mode() -> bool:
    """True when `RESNET_BOOK_FAST` is set to 1/true/yes; False when unset or 0/false/no."""
    value = os.environ.get(FAST_MODE_VARIABLE, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"Environment variable {FAST_MODE_VARIABLE} must be 1 or 0 (true/false), found {value!r}.")


def pick(full, fast):
    """`fast` in fast mode, `full` otherwise; e.g. `epochs = pick(full=10, fast=1)`."""
    return fast if fast_mode() else full
