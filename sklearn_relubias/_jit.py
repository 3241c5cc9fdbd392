"""The package's single Numba decorator.

Every kernel is compiled with the same options:

- ``cache=True`` so that a second process loads machine code from disk instead
  of compiling again. When Numba finds no writable cache location (a read-only
  install with no ``NUMBA_CACHE_DIR``), caching is switched off for that
  function instead of failing at import.
- ``nogil=True`` so that threads (joblib's threading backend) run kernels in
  parallel.
- ``error_model="numpy"`` so that a division by zero yields ``inf``/``nan``
  instead of raising from inside compiled code: kernels report problems through
  their status code, never through exceptions.
- no ``fastmath``: it would let LLVM assume finite values and break the
  divergence checks.
"""

import numba

_OPTIONS = {"nogil": True, "error_model": "numpy"}


def inline(func):
    """Compile ``func`` as a helper inlined into each kernel that calls it (Numba IR).

    It is not compiled on its own, so a kernel's first compilation costs one
    function instead of one per helper (most of the cold-start time is a fixed
    cost per compiled function).
    """
    return numba.njit(inline="always")(func)


def jit(func):
    """Compile ``func`` in nopython mode with the package's options."""
    try:
        return numba.njit(cache=True, **_OPTIONS)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(cache=False, **_OPTIONS)(func)
