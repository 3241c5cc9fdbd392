"""Output files that appear whole or not at all, and all of a run's files together."""

import os
import signal
import tempfile
import threading
from pathlib import Path


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class StagedFiles:
    """Write files under temporary names beside their final ones, then rename them all.

    Inside the ``with`` block, :meth:`temp` creates an empty temporary file
    in the final file's folder (a fresh name, opened with ``O_EXCL``: never
    through an existing file or symlink) and returns its path, to be written
    by any writer. On a normal exit every temporary file is flushed to disk
    and ``os.replace``-d over its final name, with SIGINT and SIGTERM held
    back until the last rename: a final name that is a symlink is replaced,
    its target left untouched. On an exception (a full disk, an interrupt)
    every temporary file is removed, nothing is replaced and the exception
    propagates, so that a previous run's files stay as they were, all of
    them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with StagedFiles() as staged:
    ...     _ = staged.temp(out / "a.txt").write_text("a")
    ...     _ = staged.temp(out / "b.txt").write_text("b")
    >>> sorted(p.name for p in out.iterdir())
    ['a.txt', 'b.txt']
    """

    def __init__(self):
        self._staged = []  # (temporary, final)

    def temp(self, final):
        """Return a new empty temporary file for ``final`` (same folder and suffix)."""
        final = Path(final)
        fd, name = tempfile.mkstemp(
            dir=final.parent, prefix=f".{final.stem}.tmp-", suffix=final.suffix
        )
        os.close(fd)
        temp = Path(name)
        self._staged.append((temp, final))
        os.chmod(temp, 0o666 & ~_umask())  # the mode a plain open() would have given
        return temp

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self._commit()
            except BaseException:
                self._discard()
                raise
        else:
            self._discard()
        return False

    def _commit(self):
        for temp, _ in self._staged:
            with open(temp, "rb") as fh:
                os.fsync(fh.fileno())
        folders = {final.parent for _, final in self._staged}
        held = hasattr(signal, "pthread_sigmask") and (
            threading.current_thread() is threading.main_thread()
        )
        if held:
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            while self._staged:
                temp, final = self._staged[0]
                os.replace(temp, final)
                self._staged.pop(0)
        finally:
            if held:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for folder in folders:
            _fsync_dir(folder)

    def _discard(self):
        for temp, _ in self._staged:
            try:
                os.remove(temp)
            except FileNotFoundError:
                pass
        self._staged = []


def _fsync_dir(folder):
    if os.name != "posix":  # pragma: no cover - folders cannot be opened elsewhere
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
