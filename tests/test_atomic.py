"""Atomic outputs: a failed writer leaves neither a partial file nor debris."""

from __future__ import annotations

import pytest

from borderkit.io.atomic import atomic_output


def test_success_replaces_only_at_the_end(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("old")
    with atomic_output(dest, overwrite=True) as tmp:
        tmp.write_text("new")
        assert dest.read_text() == "old"
    assert dest.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_failure_leaves_no_file(tmp_path):
    dest = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_output(dest) as tmp:
        tmp.write_text("")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_refuses_existing_without_overwrite(tmp_path):
    dest = tmp_path / "out.csv"
    dest.write_text("keep")
    with pytest.raises(FileExistsError, match="--overwrite"), atomic_output(dest, overwrite=False):
        pass
    assert dest.read_text() == "keep"


def test_writer_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"), atomic_output(tmp_path / "x.txt"):
        pass
