"""What a submission leaves for the grader to read or remove cannot stall or crash it
(issue 16): a value nested thousands deep, a folder tree thousands deep."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from grader.sandbox.disk import remove_tree
from grader.sandbox.records import VALUE_DEPTH, decode_outcome
from grader.sandbox.untrusted import Tampered


def outcome_with(value_json: str) -> bytes:
    return ('{"status":"returned","t0":1.0,"t":2.0,"output_end":[0,0],"value":' + value_json + "}").encode()


@pytest.mark.parametrize("depth", [VALUE_DEPTH + 1, 5_000, 100_000])
def test_a_value_nested_deeper_than_the_runtime_writes_is_tampering(depth: int) -> None:
    with pytest.raises(Tampered):
        decode_outcome(outcome_with("[" * depth + "]" * depth), (0.0, 10.0), "calls/0.json")


def test_a_value_the_runtime_writes_is_read() -> None:
    nested = '{"__pairs__":[[1,' * 20 + "0" + "]]}" * 20  # 20 levels of mappings with int keys: 60 deep
    assert decode_outcome(outcome_with(nested), (0.0, 10.0), "calls/0.json").status == "returned"


def test_a_tree_deeper_than_a_path_can_name_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "session"
    root.mkdir()
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(3_000):  # 3,000 levels: each made relative to the last, as a submission would
            os.mkdir("d", dir_fd=descriptor)
            deeper = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = deeper
        os.close(os.open("file", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor))
        os.symlink(str(tmp_path / "kept"), "link", dir_fd=descriptor)
    finally:
        os.close(descriptor)
    (tmp_path / "kept").write_text("not the submission's to remove")
    remove_tree(root)
    assert not root.exists()
    assert (tmp_path / "kept").read_text() == "not the submission's to remove"


def test_session_folders_a_killed_grader_left_are_removed_once_stale(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A grader killed mid-session leaves its folder (a tmpfs, for a root grader, still
    mounted): the next grader removes those untouched for an hour, never a fresh one."""
    import tempfile

    from grader.sandbox import disk

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale, fresh, other = tmp_path / "grade-stale", tmp_path / "grade-fresh", tmp_path / "not-a-session"
    for folder in (stale, fresh, other):
        (folder / "work").mkdir(parents=True)
    if disk.tmpfs_reason() == "":
        assert disk._mount_tmpfs(stale) == 0
        (stale / "work").mkdir()
    old = time.time() - 2 * disk.STALE_FOLDER_S
    for folder in (stale, other):
        os.utime(folder, (old, old))
    disk._remove_stale_folders.cache_clear()
    try:
        folder, mounted = disk.make_folder(False)
        disk.remove_folder(folder, mounted)
        assert not stale.exists() and not os.path.ismount(stale)
        assert fresh.exists() and other.exists()
    finally:
        disk._remove_stale_folders.cache_clear()
        disk.remove_below(tmp_path)  # whatever the test left mounted, if it failed
