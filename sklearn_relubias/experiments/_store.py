"""An SQLite store of a sweep's finished cells: a kill loses no finished cell, a rerun resumes.

One file holds the sweep's arguments (a canonical JSON description) and one
row per finished cell with its records. The parent process is the only
writer: workers return records and the parent commits each cell in its own
transaction, in WAL mode with ``synchronous=FULL``, so that a kill at any
moment (SIGKILL included) leaves every committed cell intact and the file
consistent.

Values are stored as JSON with a few tagged forms, so that records come back
exactly as they went in: ``bool``, ``int`` (any size), ``str`` and ``None``
as themselves, finite floats as their shortest round-trip ``repr`` (bit for
bit, ``-0.0`` included), non-finite floats as their 8 IEEE-754 bytes (NaN
payload and sign kept), tuples, lists, dicts with string keys, and numeric
NumPy arrays (dtype, shape, values). NumPy scalars become the Python scalar
of the same value (``.item()``).

Tables:

- ``meta(key, value)``: ``format``, ``schema_version``, ``created`` and
  ``arguments``, the canonical JSON of the sweep's arguments (sorted keys),
  compared key by key with a later call's;
- ``runs(run, pid, started, ended, status, n_computed, n_failed)``: one row
  per call; ``status`` is ``'complete'``, ``'incomplete'`` (cells given up)
  or ``'interrupted'`` (an exception), and stays NULL when the process was
  killed; ``n_computed`` counts the cells the call computed;
- ``cells(cell, n_samples, n_features, repeat, run, finished, records)``: one
  row per finished cell (its index in grid order, its requested sizes and
  repeat, the run that computed it) with its records as a JSON list.
"""

import json
import math
import os
import sqlite3
import struct
from contextlib import contextmanager
from datetime import datetime, timezone

import numpy as np

FORMAT = "sklearn_relubias.gap_sweep"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run INTEGER PRIMARY KEY,
    pid INTEGER NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    status TEXT,
    n_computed INTEGER NOT NULL DEFAULT 0,
    n_failed INTEGER
);
CREATE TABLE cells (
    cell INTEGER PRIMARY KEY,
    n_samples INTEGER NOT NULL,
    n_features INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    run INTEGER NOT NULL REFERENCES runs (run),
    finished TEXT NOT NULL,
    records TEXT NOT NULL
);
"""


class StoreError(ValueError):
    """A store that is not a gap_sweep store, or holds a sweep with other arguments."""


def plain(value):
    """Return a NumPy scalar as the Python scalar of the same value; anything else as is."""
    return value.item() if isinstance(value, np.generic) else value


def encode(value):
    """Return ``value`` as JSON-serialisable data that :func:`decode` turns back into it.

    Raises
    ------
    TypeError
        For a value of another type (e.g. an estimator or a function), or a
        dict whose keys are not strings or start with ``'$'`` (the tags).
    """
    value = plain(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": struct.pack(">d", value).hex()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str) or k.startswith("$")]
        if bad:
            raise TypeError(f"Cannot store a dict with key {bad[0]!r}: keys must be strings.")
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {
            "$ndarray": {
                "dtype": value.dtype.str,
                "shape": list(value.shape),
                "data": [encode(v) for v in value.ravel().tolist()],
            }
        }
    raise TypeError(
        f"Cannot store a value of type {type(value).__name__} ({value!r:.80}): a store "
        "holds numbers, strings, bools, None, lists, tuples, dicts and numeric arrays."
    )


def _tagged(obj):
    if "$float" in obj:
        return struct.unpack(">d", bytes.fromhex(obj["$float"]))[0]
    if "$tuple" in obj:
        return tuple(obj["$tuple"])
    if "$ndarray" in obj:
        spec = obj["$ndarray"]
        return np.array(spec["data"], dtype=np.dtype(spec["dtype"])).reshape(spec["shape"])
    return obj


def dumps(value):
    """Canonical JSON text of ``value`` (sorted keys, no spaces): equal values, equal text."""
    return json.dumps(encode(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text):
    """Inverse of :func:`dumps`."""
    return json.loads(text, object_hook=_tagged)


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def remove_store(path):
    """Delete a store and its WAL side files (``-wal``, ``-shm``), if they exist."""
    for name in (os.fspath(path), f"{os.fspath(path)}-wal", f"{os.fspath(path)}-shm"):
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


class SweepStore:
    """The finished cells of one sweep in an SQLite file (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        The database file, created with its tables when absent.
    arguments : dict
        The sweep's canonical description. Its ``'random_state'`` may be
        None: a new store then stores ``new_entropy``, and an existing one
        supplies the entropy it holds.
    new_entropy : callable
        Draws fresh entropy (called only for a new store without a seed).

    Attributes
    ----------
    path : str
    arguments : dict
        The description in force (with the entropy).
    run : int
        This call's row in the ``runs`` table.

    Raises
    ------
    StoreError
        A ValueError: if the file is not a store of this kind, or holds a sweep with other
        arguments (the message names each differing one).
    """

    def __init__(self, path, arguments, new_entropy):
        self.path = os.fspath(path)
        # Autocommit: every transaction below is explicit (BEGIN IMMEDIATE ... COMMIT).
        self._conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            with self._transaction():  # one process creates the tables
                self.arguments = self._check(arguments, new_entropy)
                self.run = self._conn.execute(
                    "INSERT INTO runs (pid, started) VALUES (?, ?)", (os.getpid(), _now())
                ).lastrowid
        except BaseException as exc:
            self._conn.close()
            if type(exc) is sqlite3.DatabaseError:  # e.g. "file is not a database"
                raise StoreError(f"{self.path} is not a gap_sweep store: {exc}.") from exc
            raise

    @contextmanager
    def _transaction(self):
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _check(self, arguments, new_entropy):
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
        if not tables:
            if arguments["random_state"] is None:
                arguments = {**arguments, "random_state": new_entropy()}
            for statement in _SCHEMA.split(";"):
                self._conn.execute(statement)
            meta = {
                "format": json.dumps(FORMAT),
                "schema_version": json.dumps(SCHEMA_VERSION),
                "created": json.dumps(_now()),
                "arguments": dumps(arguments),
            }
            self._conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            return arguments
        meta = {}
        if "meta" in tables:
            meta = dict(self._conn.execute("SELECT key, value FROM meta"))
        if (meta.get("format"), meta.get("schema_version")) != (
            json.dumps(FORMAT),
            json.dumps(SCHEMA_VERSION),
        ):
            raise StoreError(
                f"{self.path} is not a gap_sweep store (schema {SCHEMA_VERSION}); pass another "
                "path, or delete the file to start a new sweep there."
            )
        stored = loads(meta["arguments"])
        if arguments["random_state"] is None:  # resume with the entropy drawn the first time
            arguments = {**arguments, "random_state": stored.get("random_state")}
        differ = [
            k
            for k in sorted(set(stored) | set(arguments))
            if k not in stored or k not in arguments or dumps(stored[k]) != dumps(arguments[k])
        ]
        if differ:
            details = "; ".join(
                f"{k} (stored {stored.get(k, '<absent>')!r:.200}, "
                f"given {arguments.get(k, '<absent>')!r:.200})"
                for k in differ
            )
            raise StoreError(
                f"The store {self.path} holds a sweep with other arguments: {details}. "
                "Call with the stored arguments to resume it, or pass another store (or "
                "delete this one) to start a new sweep."
            )
        return arguments

    def finished(self):
        """Return ``{cell: (n_samples, n_features, repeat)}`` of the cells stored so far."""
        rows = self._conn.execute("SELECT cell, n_samples, n_features, repeat FROM cells")
        return {cell: tuple(key) for cell, *key in rows}

    def add(self, cell, key, records):
        """Store one finished cell and its records, in one transaction."""
        text = json.dumps(encode(records), allow_nan=False)
        with self._transaction():
            # OR IGNORE: another process on the same store may have stored it first (the
            # same records: a cell's records depend on the arguments only), and its stay
            self._conn.execute(
                "INSERT OR IGNORE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cell, *key, self.run, _now(), text),
            )
            self._conn.execute(  # the cells this call computed, stored or not
                "UPDATE runs SET n_computed = n_computed + 1 WHERE run = ?", (self.run,)
            )

    def records(self, cell):
        """Return the records of a stored cell, exactly as they were added."""
        (text,) = self._conn.execute("SELECT records FROM cells WHERE cell = ?", (cell,)).fetchone()
        return loads(text)

    def close(self, status, n_failed=None):
        """Record how this call ended and how many cells failed, then close the file.

        ``status`` is ``'complete'``, ``'incomplete'`` (cells failed) or
        ``'interrupted'`` (an exception); a killed call leaves it NULL.
        """
        try:
            with self._transaction():
                self._conn.execute(
                    "UPDATE runs SET ended = ?, status = ?, n_failed = ? WHERE run = ?",
                    (_now(), status, n_failed, self.run),
                )
        finally:
            self._conn.close()
