"""Progress bars: off by default, on when asked, only on a terminal when the CLI asks; never change results."""
from __future__ import annotations

import io

import pytest

from effectmeting.progress import progress, progress_enabled, wanted


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_library_calls_are_quiet_by_default(capsys):
    items = [1, 2, 3]
    assert wanted() is False
    assert progress(items, desc="draws") is items  # the iterable itself: no bar, nothing printed
    assert capsys.readouterr().err == ""


def test_explicit_choice_wins():
    assert wanted(True) is True and wanted(False) is False
    with progress_enabled():
        assert wanted(False) is False


def test_command_line_setting_needs_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a pipe or a log file
    with progress_enabled():
        assert wanted() is False
    with progress_enabled(terminal_only=False):  # a caller's progress=True, e.g. in a notebook
        assert wanted() is True
    monkeypatch.setattr("sys.stderr", _Terminal())
    with progress_enabled():
        assert wanted() is True
    with progress_enabled(False):
        assert wanted() is False
    assert wanted() is False  # the setting ends with the block


def test_bar_goes_to_stderr_and_yields_the_same_items(monkeypatch):
    pytest.importorskip("tqdm")
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with progress_enabled():
        seen = list(progress(range(5), desc="bootstrap draws", unit="draw"))
    assert seen == [0, 1, 2, 3, 4]
    assert "bootstrap draws" in terminal.getvalue()
