"""The package's single Numba decorator.

Every kernel is compiled with the same options:

- an on-disk cache (:class:`SafeFunctionCache`, Numba's ``cache=True`` made
  safe, below) so that a second process loads machine code from disk instead
  of compiling again. When Numba finds no writable cache location (a
  read-only install with no ``NUMBA_CACHE_DIR``), caching is switched off for
  that function instead of failing at import.
- ``nogil=True`` so that threads (joblib's threading backend) run kernels in
  parallel.
- ``error_model="numpy"`` so that a division by zero yields ``inf``/``nan``
  instead of raising from inside compiled code: kernels report problems through
  their status code, never through exceptions.
- ``fastmath={"contract", "reassoc"}`` only: multiply-adds may fuse and sums
  may be reordered so that loops vectorise (the result is deterministic for a
  given build and machine), but LLVM may not assume finite values, which the
  divergence checks need (no ``nnan``/``ninf``).

The cache never breaks a fit. A cache file that cannot be read (a
truncated, empty or garbage index ``*.nbi`` or data file ``*.nbc``, e.g.
after a crash or a full disk) or a cache that cannot be written (read-only,
full disk) does not make a fit raise: the kernel compiles in memory, with
one :class:`NumbaCacheWarning` per function and process. A damaged entry is
replaced the next time the kernel is saved.

The cache directory must be private to the user. Numba's index file is a
pickle, unpickled before its source stamp is checked, and the data files
are pickles of machine code that the process then runs: whoever can write
the cache directory runs code in every later fit. So the cache is used
only if the function's cache directory (Numba's
``_cache_path``: a folder of ``NUMBA_CACHE_DIR``, or without it the
package's ``__pycache__`` or Numba's user-wide cache) and each parent up to
``NUMBA_CACHE_DIR`` (without it, up to the cache directory's parent) are
owned by the current user or root and not writable by the group or others
(a parent with the sticky bit, like ``/tmp``, may be: nobody else can
replace what is in it), and the cache files are owned by the user or root
and writable by no one else. Otherwise the cache is neither read nor
written (one :class:`NumbaCacheWarning` per directory) and the kernels
compile in memory. Point ``NUMBA_CACHE_DIR`` at a directory of your own
(``mkdir -m 700``), never at one shared with other users.
"""

import os
import stat
import threading

import numba
from numba.core import caching, config
from numba.core.dispatcher import Dispatcher

from .exceptions import NumbaCacheWarning, warn

# "contract" and "reassoc" let LLVM fuse multiply-adds and vectorise sums
# (deterministic for a given build and machine); NaN and inf keep their
# meaning, which the divergence checks need (no "nnan"/"ninf").
_OPTIONS = {"nogil": True, "error_model": "numpy", "fastmath": {"contract", "reassoc"}}


_WARNED = set()
_WARNED_LOCK = threading.Lock()
# Numba's own frames are not blamed for a cache warning either.
_NUMBA = os.path.dirname(os.path.abspath(numba.__file__)) + os.sep


def _warn_once(key, message):
    """Issue a :class:`NumbaCacheWarning` the first time ``key`` is seen in this process."""
    with _WARNED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warn(message, NumbaCacheWarning, skip=(_NUMBA,))


class _Untrusted(Exception):
    """A cache path is not private to this user (the message says why)."""


def _not_private(st, path, *, sticky_ok=False):
    """Why a file or directory with status ``st`` is not private (None when it is)."""
    if st.st_uid not in (os.geteuid(), 0):
        return f"{path} is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & 0o022 and not (sticky_ok and st.st_mode & stat.S_ISVTX):
        who = "other users" if st.st_mode & 0o002 else "its group"
        return f"{path} is writable by {who} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def untrusted_reason(cache_path, cache_dir=None):
    """Why ``cache_path`` and its parents up to ``cache_dir`` are not private to this user.

    ``cache_dir`` is ``NUMBA_CACHE_DIR`` (default ``numba.config.CACHE_DIR``);
    when ``cache_path`` is not inside it (or it is not set) only
    ``cache_path`` and its parent are checked. Symbolic links are resolved
    first. Returns None when every directory is owned by this user or root
    and writable by no one else (parents may be world-writable with the
    sticky bit), and always on systems without user ids.
    """
    if not hasattr(os, "geteuid"):
        return None
    here = os.path.realpath(cache_path)
    top = config.CACHE_DIR if cache_dir is None else cache_dir
    top = os.path.realpath(top) if top else None
    if top is None or os.path.commonpath([here, top]) != top:
        top = os.path.dirname(here)
    leaf = True
    while True:
        try:
            reason = _not_private(os.stat(here), here, sticky_ok=not leaf)
        except OSError as exc:
            reason = f"{here} cannot be checked ({exc})"
        if reason is not None:
            return reason
        parent = os.path.dirname(here)
        if here == top or parent == here:
            return None
        here, leaf = parent, False


def _check_file(path):
    """Raise :class:`_Untrusted` if the cache file ``path`` exists and is not private."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise _Untrusted(f"{path} is a symbolic link")
    reason = _not_private(st, path)
    if reason is not None:
        raise _Untrusted(reason)


class _IndexDataCacheFile(caching.IndexDataCacheFile):
    """Numba's index and data files, which refuse files that are not private.

    A damaged index reads as empty (so that the next save replaces it) and is
    kept in :attr:`damaged` for the warning.
    """

    damaged = None

    def _load_index(self):
        _check_file(self._index_path)
        try:
            return super()._load_index()
        except Exception as exc:  # truncated, empty or garbage: a pickle error of any kind
            self.damaged = exc
            return {}

    def _load_data(self, name):
        _check_file(self._data_path(name))
        return super()._load_data(name)


class SafeFunctionCache(caching.FunctionCache):
    """Numba's :class:`~numba.core.caching.FunctionCache`, which never makes a fit raise.

    A load that fails returns nothing (Numba then compiles), a save that
    fails is given up for this function, each with one
    :class:`NumbaCacheWarning`; a cache directory that is not private to
    the user is not used at all (module docstring). Raises RuntimeError,
    like Numba's, when there is no writable cache location.
    """

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = _IndexDataCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )
        self._function = f"{py_func.__module__}.{py_func.__qualname__}"
        self._cache_dir = config.CACHE_DIR  # NUMBA_CACHE_DIR when the locator chose it
        self._trusted = None  # checked on first use
        self._saving = True

    def _usable(self):
        if self._trusted is None:
            reason = untrusted_reason(self._cache_path, self._cache_dir)
            if reason is not None:
                self._refuse(reason)
            self._trusted = reason is None
        return self._trusted

    def _refuse(self, reason):
        self._trusted = False
        _warn_once(
            ("untrusted", self._cache_path),
            f"Numba's cache for {self._function} is not private to this user ({reason}); "
            "it is neither read nor written, since loading it runs its contents, and the "
            "kernels compile in memory. Set NUMBA_CACHE_DIR to a directory of your own "
            "(mkdir -m 700).",
        )

    def _failed(self, action, exc, outcome):
        _warn_once(
            ("io", self._function),
            f"Could not {action} Numba's cache for {self._function} in {self._cache_path} "
            f"({type(exc).__name__}: {exc}); {outcome}",
        )

    def load_overload(self, sig, target_context):
        if not self._usable():
            return None
        self._cache_file.damaged = None
        try:
            cres = super().load_overload(sig, target_context)
        except _Untrusted as exc:
            self._refuse(str(exc))
            return None
        except Exception as exc:  # a damaged data file: unpickling or rebuilding fails
            cres, self._cache_file.damaged = None, exc
        if self._cache_file.damaged is not None:
            self._failed(
                "read",
                self._cache_file.damaged,
                "compiling in memory; the entry is replaced when the kernel is saved.",
            )
        return cres

    def save_overload(self, sig, data):
        if not (self._saving and self._usable()):
            return
        try:
            super().save_overload(sig, data)
        except _Untrusted as exc:
            self._refuse(str(exc))
        except Exception as exc:  # read-only, full disk (ENOSPC), ...
            self._saving = False
            self._failed("write", exc, "the kernel stays compiled in memory for this process.")


def jit_parallel(func):
    """:func:`jit` with ``parallel=True``."""
    return jit(func, parallel=True)


def inline(func):
    """Compile ``func`` as a helper inlined into each kernel that calls it (Numba IR).

    It is not compiled on its own, so a kernel's first compilation costs one
    function instead of one per helper (most of the cold-start time is a fixed
    cost per compiled function).
    """
    return numba.njit(inline="always")(func)


def jit(func, parallel=False):
    """Compile ``func`` in nopython mode with the package's options and a safe cache.

    ``parallel=True`` turns its ``numba.prange`` loops into loops over Numba's
    threads (a kernel whose result is made independent of the thread count).
    """
    disp = numba.njit(**_OPTIONS, parallel=parallel)(func)
    if isinstance(disp, Dispatcher):  # not the function itself (NUMBA_DISABLE_JIT=1)
        try:
            disp._cache = SafeFunctionCache(disp.py_func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            pass  # Numba's NullCache: compiled in memory
        except Exception as exc:  # Numba's cache internals changed: do without the cache
            _warn_once(
                ("internals",),
                f"Numba {numba.__version__}'s cache is not the one sklearn_relubias knows "
                f"({type(exc).__name__}: {exc}); kernels compile in memory.",
            )
    return disp
