"""Resident-set-size readings of this process (Linux), for the child processes of cases 3 and 9.

Only the standard library at import time, so that ``benchmarks._child``
can time its heavy imports (case 5).
"""

import os


def current_rss_bytes():
    """Resident set size now (Linux /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss():
    """Reset the kernel's RSS high-water mark to the current RSS (Linux >= 4.0).

    Without it the peak could come from earlier transients (imports, a Numba
    compile). Returns whether the reset worked.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    """High-water mark of the resident set size (VmHWM, the value getrusage reports)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
