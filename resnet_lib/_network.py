"""A guard that keeps Keras' own downloads from hanging forever.

`keras.datasets.*.load_data` and `keras.applications` download through `keras.utils.get_file`, which
takes no timeout: a server that stops answering would block them forever. The only bound they obey is
the socket default, which is process-wide, so this sets it just for the `with` body. Our own downloads
(`resnet_lib.data`) do not need it: they pass `timeout=` to `urlopen`, which bounds one connection.
"""

from __future__ import annotations

import contextlib
import socket


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Sets the (process-wide) default socket timeout for the `with` body, so that a download gives up."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
