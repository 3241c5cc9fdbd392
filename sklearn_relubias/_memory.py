"""Memory planned before the package allocates a square matrix.

Only two kinds of object can outgrow X: the ``n x n`` Gram matrix ``K = X
X^T`` (dual gradient descent, the dual minimum-norm program) and the ``d x
d`` factor of the primal minimum-norm program. A fit estimates each stage
that builds one (:class:`MemoryPlan`) and compares the largest with
:func:`budget` once, before allocating: the ``'auto'`` choices avoid what
does not fit, and an explicit choice that cannot fit raises
:class:`~sklearn_relubias.exceptions.InsufficientMemoryError` naming the
size and the parameter.

The budget: by default a fit may plan :data:`BUDGET_FRACTION` (half) of
:func:`available_bytes`, the smallest of what these sources say the process
can still get (:func:`memory_sources`):

- ``MemAvailable`` in ``/proc/meminfo`` (:func:`meminfo`, the package's one
  reader of that file; ``sysconf`` free pages where there is none);
- the headroom of the process's memory cgroup and of each of its ancestors
  (:func:`cgroup_limits`, the cgroup named in ``/proc/self/cgroup``, its
  files under ``/sys/fs/cgroup``): ``memory.max - memory.current`` on cgroup
  v2 (``max`` is no limit), ``memory.limit_in_bytes - memory.usage_in_bytes``
  on v1, the inactive page cache (``inactive_file``) counted as free since
  the kernel reclaims it before the OOM killer runs. A container's limit is
  not in ``MemAvailable``, and exceeding it kills the process (exit 137)
  instead of raising;
- the address space left under ``RLIMIT_AS`` (``ulimit -v``) and the data
  left under ``RLIMIT_DATA``: the soft limit minus ``VmSize``, resp.
  ``VmData``, of ``/proc/self/status``; beyond it NumPy raises a bare
  ``MemoryError`` from wherever the allocation happens to be.

Every process reads the same free memory: concurrent workers (joblib,
several jobs on one machine) each plan their fraction of it, so the fraction
below one is only the mitigation. The control is a budget set by the user,
which replaces the fraction (but is never more than :func:`available_bytes`,
beyond which a fit would be killed rather than refused):

- the environment variable ``SKLEARN_RELUBIAS_MEMORY_BUDGET`` (:data:`ENV_VAR`),
  in bytes or with a binary suffix (``512M``, ``2G``, ``1.5GiB``; see
  :func:`parse_size`), for every fit of a process and of the workers it
  starts afterwards (e.g. the total divided by the number of workers);
- :func:`memory_budget`, a context manager for the code running in the
  current thread or asyncio task; it takes precedence over the variable.
"""

import contextlib
import contextvars
import math
import numbers
import os
import re

import numpy as np

from .exceptions import InsufficientMemoryError

# Fraction of the available memory a single decision may plan to use.
BUDGET_FRACTION = 0.5

# The user's budget for every fit of a process (and of the workers it starts).
ENV_VAR = "SKLEARN_RELUBIAS_MEMORY_BUDGET"

# Where the sources are read (module attributes so that tests can point them elsewhere).
MEMINFO = "/proc/meminfo"
PROC_STATUS = "/proc/self/status"
PROC_CGROUP = "/proc/self/cgroup"
CGROUP_ROOT = "/sys/fs/cgroup"

# cgroup v1 reports "no limit" as LONG_MAX rounded down to a page.
_NO_LIMIT = 2**62

# Peak number of k x k float64 arrays alive at once, measured with benchmarks
# case 9 (extra peak RSS over the data, fresh processes): dual gradient descent
# holds K and, for its step size below n = 1000, a copy for eigvalsh (1.02 K
# measured above n = 1000: K and a sparse row block); the dual minimum-norm
# program K, a copy for its eigenvalues and free blocks (2.2 n^2 measured); the
# primal program a d x d factor, its SVD and the block being re-factored, plus
# row copies of X for its residuals, which grow with n: PRIMAL_XS copies of X
# (3.3 measured at d = 50, 8.2 for a default fit at 100,000 x 5).
GRAM_SQUARES = 2
MIN_NORM_SQUARES = 3
PRIMAL_SQUARES = 4
PRIMAL_XS = 10


def _fields(path):
    """``{name: bytes}`` of a ``name value [kB]`` file (meminfo, status, memory.stat).

    Lines whose value is not an integer are skipped; empty when unreadable.
    """
    out = {}
    try:
        with open(path) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2 or not parts[1].isdigit():
                    continue
                out[parts[0].rstrip(":")] = int(parts[1]) * (1024 if parts[2:3] == ["kB"] else 1)
    except (OSError, UnicodeDecodeError):
        pass
    return out


def _read_int(path):
    """Return the integer in a one-value file (cgroup limits); None if missing or ``max``."""
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def meminfo(field="MemAvailable", path=None):
    """``field`` of ``/proc/meminfo`` in bytes (None where it is not there).

    The package's one reader of that file (``path`` replaces it, e.g. in tests).
    """
    return _fields(MEMINFO if path is None else path).get(field)


def _system_available():
    """``MemAvailable``, or the free pages by ``sysconf`` where there is no /proc/meminfo."""
    avail = meminfo("MemAvailable")
    if avail is not None:
        return avail
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_dirs(proc_cgroup, root):
    """``(version, mount, directory)`` of each memory cgroup hierarchy this process is in."""
    try:
        with open(proc_cgroup) as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":  # v2: /sys/fs/cgroup, or .../unified (hybrid)
            version, mounts = 2, [root, os.path.join(root, "unified")]
            mounts = [m for m in mounts if os.path.isfile(os.path.join(m, "cgroup.controllers"))]
        elif "memory" in controllers.split(","):
            version, mounts = 1, [os.path.join(root, "memory"), os.path.join(root, controllers)]
            mounts = [m for m in mounts if os.path.isdir(m)]
        else:
            continue
        if not mounts:
            continue
        mount = os.path.normpath(mounts[0])
        here = os.path.normpath(os.path.join(mount, path.lstrip("/")))
        if not here.startswith(mount) or not os.path.isdir(here):
            # a container without its own cgroup namespace sees the host's path, but
            # its own cgroup mounted as the root
            here = mount
        found.append((version, mount, here))
    return found


def cgroup_limits(proc_cgroup=None, root=None):
    """Return the memory cgroups this process is charged to: its own, then its ancestors.

    Read from ``proc_cgroup`` (default ``/proc/self/cgroup``) and the cgroup
    file systems under ``root`` (default ``/sys/fs/cgroup``): v2 in
    ``root`` or ``root/unified``, v1 in ``root/memory``.

    Returns
    -------
    list of dict
        ``{'version', 'path', 'limit', 'usage', 'reclaimable'}`` per cgroup
        whose usage can be read, innermost first: ``limit`` is None without
        one (``max`` on v2, a page-rounded ``LONG_MAX`` on v1),
        ``reclaimable`` the inactive page cache (``inactive_file`` of
        ``memory.stat``, ``total_inactive_file`` on v1).
    """
    proc_cgroup = PROC_CGROUP if proc_cgroup is None else proc_cgroup
    root = CGROUP_ROOT if root is None else root
    files = {
        2: ("memory.max", "memory.current", "inactive_file"),
        1: ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
    }
    levels = []
    for version, mount, here in _cgroup_dirs(proc_cgroup, root):
        limit_file, usage_file, inactive = files[version]
        while True:
            usage = _read_int(os.path.join(here, usage_file))
            if usage is not None:
                limit = _read_int(os.path.join(here, limit_file))
                levels.append(
                    {
                        "version": version,
                        "path": here,
                        "limit": None if limit is None or limit >= _NO_LIMIT else limit,
                        "usage": usage,
                        "reclaimable": _fields(os.path.join(here, "memory.stat")).get(inactive, 0),
                    }
                )
            if here == mount:
                break
            here = os.path.dirname(here)
    return levels


def cgroup_headroom(proc_cgroup=None, root=None):
    """Bytes the process's memory cgroups can still give: the least ``limit - usage`` (or None).

    The reclaimable page cache is not counted as used (see :func:`cgroup_limits`).
    """
    room = [
        max(c["limit"] - max(c["usage"] - c["reclaimable"], 0), 0)
        for c in cgroup_limits(proc_cgroup, root)
        if c["limit"] is not None
    ]
    return min(room, default=None)


def rlimit_headroom(status=None):
    """``{name: bytes}`` left under the soft ``RLIMIT_AS`` and ``RLIMIT_DATA`` that are set.

    The limit minus ``VmSize`` (address space), resp. ``VmData``, from
    ``status`` (default ``/proc/self/status``; the whole limit where it does
    not say).
    """
    try:
        import resource
    except ImportError:  # not POSIX
        return {}
    room, fields = {}, None
    for name, used in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        kind = getattr(resource, name, None)
        soft = resource.RLIM_INFINITY if kind is None else resource.getrlimit(kind)[0]
        if soft == resource.RLIM_INFINITY:
            continue
        fields = _fields(PROC_STATUS if status is None else status) if fields is None else fields
        room[name] = max(soft - fields.get(used, 0), 0)
    return room


def memory_sources():
    """Return what each source says the process can still get: ``{source: bytes}``.

    Sources: ``'MemAvailable'``, ``'cgroup'`` (:func:`cgroup_headroom`),
    ``'RLIMIT_AS'`` and ``'RLIMIT_DATA'`` (:func:`rlimit_headroom`); those
    that do not apply (no cgroup limit, no rlimit) are left out. See the
    module docstring.
    """
    found = {"MemAvailable": _system_available(), "cgroup": cgroup_headroom()}
    found.update(rlimit_headroom())
    return {name: nbytes for name, nbytes in found.items() if nbytes is not None}


def _available():
    """``(bytes, source)``: the smallest of :func:`memory_sources` (``(None, None)`` if none)."""
    found = memory_sources()
    if not found:
        return None, None
    source = min(found, key=found.get)
    return found[source], source


def available_bytes():
    """Memory this process can still get, in bytes: the least of :func:`memory_sources`.

    None if no source is known.
    """
    return _available()[0]


_AVAILABLE_BYTES = available_bytes  # tests and benchmarks replace the module attribute


_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
_UNITS = {None: 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(value, name=ENV_VAR):
    """Bytes from a memory size: a number of bytes, or a string such as ``'512M'`` or ``'2G'``.

    The suffixes ``K``, ``M``, ``G`` and ``T`` (any case, optionally followed
    by ``B`` or ``iB``) are powers of 1024; ``'1.5G'`` is allowed. ``name``
    is what a :class:`ValueError` names for an invalid value.
    """
    nbytes = None
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match:
            nbytes = float(match.group(1)) * _UNITS[match.group(2) and match.group(2).lower()]
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        nbytes = float(value)
    if nbytes is None or not math.isfinite(nbytes) or nbytes < 0:
        raise ValueError(
            f"{name}={value!r} is not a memory size: give a number of bytes (e.g. "
            f"2000000000) or a number with a suffix K, M, G or T (powers of 1024: 512M, "
            f"2G, 1.5GiB)."
        )
    return int(nbytes)


# A budget set by memory_budget in this thread or task: None (not set) or (bytes or None,).
_USER_BUDGET = contextvars.ContextVar("sklearn_relubias_memory_budget", default=None)


@contextlib.contextmanager
def memory_budget(nbytes):
    """Set the bytes a fit may plan to use, for the code running in this thread or task.

    Fits inside the block plan against ``nbytes`` instead of
    :data:`BUDGET_FRACTION` of the memory available (and instead of the
    ``SKLEARN_RELUBIAS_MEMORY_BUDGET`` environment variable), still capped
    at :func:`available_bytes`; None restores the automatic budget. A
    context variable: other threads, and threads or processes started in
    the block, are not affected (set the environment variable before
    starting workers). Also usable as a decorator.

    Parameters
    ----------
    nbytes : int, float, str or None
        Bytes, or a size such as ``'512M'`` or ``'2G'`` (:func:`parse_size`).

    Examples
    --------
    >>> from sklearn_relubias._memory import MemoryPlan, memory_budget
    >>> with memory_budget("64M"):
    ...     plan = MemoryPlan()
    >>> plan.budget <= 64 * 2**20, plan.budget_text
    (True, 'set by memory_budget()')
    """
    value = None if nbytes is None else parse_size(nbytes, "memory_budget")
    token = _USER_BUDGET.set((value,))
    try:
        yield
    finally:
        _USER_BUDGET.reset(token)


def _user_budget():
    """``(bytes, origin)`` of the budget the user set (``(None, None)`` if automatic)."""
    chosen = _USER_BUDGET.get()
    if chosen is not None:
        return chosen[0], None if chosen[0] is None else "set by memory_budget()"
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return None, None
    return parse_size(text, ENV_VAR), f"set by {ENV_VAR}={text}"


_SOURCE_TEXT = {"MemAvailable": " by MemAvailable", "cgroup": " under the cgroup memory limit"}


def _budget():
    """``(bytes, description)`` of the budget one fit may plan to use (``inf`` if unknown)."""
    user, origin = _user_budget()
    if available_bytes is _AVAILABLE_BYTES:
        avail, source = _available()
    else:
        avail, source = available_bytes(), None
    where = f"{size_text(avail)} available" if avail is not None else ""
    if source:
        where += _SOURCE_TEXT.get(source, f" under {source}")
    if user is not None:
        if avail is not None and avail < user:
            return avail, f"{origin}, lowered to the {where}"
        return user, origin
    if avail is None:
        return np.inf, "no limit known"
    return BUDGET_FRACTION * avail, f"{BUDGET_FRACTION:.0%} of the {where}"


def budget():
    """Bytes one fit may plan to use (inf if unknown); see the module docstring.

    The user's budget (:func:`memory_budget`, else the
    ``SKLEARN_RELUBIAS_MEMORY_BUDGET`` environment variable) capped at
    :func:`available_bytes`, else :data:`BUDGET_FRACTION` of it. Raises a
    ValueError naming the variable if it is not a memory size.
    """
    return _budget()[0]


def square_bytes(k, copies=1):
    """Bytes of ``copies`` float64 ``k x k`` arrays."""
    return copies * 8 * int(k) ** 2


def gram_gd_bytes(n_samples):
    """Planned peak of dual gradient descent: ``K`` and a copy for its spectrum."""
    return square_bytes(n_samples, GRAM_SQUARES)


def min_norm_bytes(n_samples, n_features):
    """Planned peak of the minimum-norm program: dual when ``n < d``, primal otherwise."""
    if n_samples < n_features:
        return square_bytes(n_samples, MIN_NORM_SQUARES)
    return square_bytes(n_features, PRIMAL_SQUARES) + PRIMAL_XS * 8 * n_samples * n_features


def size_text(nbytes):
    """``nbytes`` in GiB, MiB or KiB."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 2**10:.1f} KiB"


class MemoryPlan:
    """The stages of one fit that allocate large objects, checked against one budget.

    A stage is what is alive at once while it runs (a shared Gram matrix is
    counted in each stage that holds it); stages run one after the other, so
    the plan's peak is the largest stage. :meth:`check` compares it with the
    budget before anything is allocated; a stage decided later (the
    ill-conditioned factor route of the minimum-norm program, chosen from the
    spectrum) is added and checked with :meth:`require`.

    Parameters
    ----------
    nbytes_available : float, default=None
        The budget; :func:`budget` when None (read once per plan).

    Attributes
    ----------
    budget : float
        Bytes the plan may use.
    budget_text : str
        Where the budget comes from, for the error message (e.g. ``'50% of
        the 1.2 GiB available under the cgroup memory limit'``).
    stages : list of dict
        ``{'what', 'bytes', 'advice'}`` per stage, in the order planned.
    checks : int
        Number of comparisons with the budget so far.
    """

    def __init__(self, nbytes_available=None):
        if nbytes_available is None:
            self.budget, self.budget_text = _budget()
        else:
            self.budget, self.budget_text = nbytes_available, "the budget given"
        self.stages = []
        self.checks = 0

    def fits(self, nbytes):
        """Whether a stage of ``nbytes`` would fit (a decision, not a check)."""
        return nbytes <= self.budget

    def add(self, what, nbytes, advice):
        """Plan a stage: ``what`` (a noun phrase) needs ``nbytes``; ``advice``: what to change."""
        self.stages.append({"what": what, "bytes": int(nbytes), "advice": advice})

    @property
    def peak(self):
        """Planned peak in bytes: the largest stage (0 when none is planned)."""
        return max((s["bytes"] for s in self.stages), default=0)

    def check(self):
        """Raise :class:`InsufficientMemoryError` if a planned stage does not fit."""
        self.checks += 1
        for stage in sorted(self.stages, key=lambda s: -s["bytes"]):
            if not self.fits(stage["bytes"]):
                raise InsufficientMemoryError(
                    f"{stage['what']} needs about {size_text(stage['bytes'])}, more than the "
                    f"{size_text(self.budget)} ({self.budget_text}) a fit may plan to use; "
                    f"{stage['advice']}"
                )

    def require(self, nbytes, what, advice):
        """Plan a late stage and check it before it allocates."""
        self.add(what, nbytes, advice)
        self.check()

    def summary(self):
        """Plain record for ``decisions``: peak bytes, stages and the number of checks."""
        return {
            "planned_peak_bytes": self.peak,
            "memory_stages": [(s["what"], s["bytes"]) for s in self.stages],
            "memory_checks": self.checks,
        }
