"""A guard that keeps network access from hanging forever."""

from __future__ import annotations

import contextlib
import socket


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Sets the default socket timeout for the `with` body, so that a download gives up."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
