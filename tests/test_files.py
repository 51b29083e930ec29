"""resnet_lib.files.write_atomically: the whole file or the old one, with the permissions a plain write gives."""

import os

import pytest

from resnet_lib.files import new_file_mode, write_atomically


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def test_a_new_file_gets_the_mode_of_a_plain_write_not_mkstemps(tmp_path, umask_027):
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    written = write_atomically(tmp_path / "results" / "new.json", "{}\n")
    assert new_file_mode() == 0o640
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o640
    assert written.read_text() == "{}\n" and sorted(p.name for p in written.parent.iterdir()) == ["new.json"]


def test_a_replaced_file_keeps_its_own_mode(tmp_path, umask_027):
    target = tmp_path / "shared.json"
    target.write_text("old")
    target.chmod(0o664)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o664
    with pytest.raises(TypeError, match="`data` must be str or bytes, received int"):
        write_atomically(target, 3)
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["shared.json"]
