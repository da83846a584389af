"""The cache folder: where it is, framed strings, atomic writes, build locks, stale-file
clean-up, and what `qa cache` lists and clears.

Every entry is one `.npz` of plain arrays (loaded with allow_pickle=False), named by what it is
for, not by its content, so a changed source replaces its entry instead of adding one.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: builds are not coordinated between processes
    fcntl = None  # type: ignore[assignment]

# Entry kinds, as file name prefixes: an index of a corpus, a fetched web page.
KINDS = ("index", "page")
# Every entry stores a line saying what it holds, for `qa cache`.
LABEL_KEY = "label"
# A temp file older than this, or whose writer is gone, was left by a killed writer.
STALE_TEMP_SECONDS = 300
# How long a process waits for another one building the same index before building it too
# (only a hung builder makes this matter: a dead one releases its lock at once).
LOCK_WAIT_SECONDS = 600
LOCK_POLL_SECONDS = 0.05
# A wait longer than this is said on stderr (a builder stopped with Ctrl-Z waits silently).
LOCK_NOTICE_SECONDS = 3.0

_ENTRY = re.compile(r"^(index|page)-[0-9a-f]{32}\.npz$")
_TEMP = re.compile(r"^(?:index|page)-[0-9a-f]{32}\.npz\.(\d+)\.[0-9a-f]+\.tmp$")
_LOCK = re.compile(r"^(?:index|page)-[0-9a-f]{32}\.npz\.lock$")
# What qa before cache format 4 wrote: content-keyed entries and their temp files.
_OLD = re.compile(r"^[0-9a-f]{40}\.npz(?:.*\.tmp)?$")


def cache_dir() -> Path | None:
    """The user's cache folder for qa (XDG on Linux, ~/Library/Caches on macOS); None when
    there is no home folder to put it in."""
    try:
        if sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        elif os.name == "nt":
            base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        else:
            base = xdg_base("XDG_CACHE_HOME", Path.home() / ".cache")
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None
    return base / "qa"


def xdg_base(variable: str, default: Path) -> Path:
    """An XDG base folder: the variable's value when it is an absolute path; the spec says a
    relative one is invalid and ignored (it made folders in the current directory)."""
    value = os.environ.get(variable, "")
    return Path(value) if value and os.path.isabs(value) else default


def private_folder(folder: Path) -> None:
    """Make the folder (and its parents) if missing, and leave it 0700 even if it was not:
    the cache holds what was read, the history what was asked."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        st = os.stat(folder)
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(folder, 0o700)
    except (OSError, AttributeError):
        pass


def entry_path(kind: str, identity: str) -> Path | None:
    """Where the entry of this kind for this source identity lives (None: no cache folder)."""
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=16)
    return folder / f"{kind}-{digest.hexdigest()}.npz"


# ---- strings framed by offsets: no character of a string can be mistaken for a separator ----

def pack_strings(strings: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes of all the strings, their character offsets: len(strings) + 1 of them)."""
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in strings], out=offsets[1:])
    blob = "".join(strings).encode("utf-8", "surrogatepass")
    return np.frombuffer(blob, dtype=np.uint8), offsets


def unpack_strings(blob: np.ndarray, offsets: np.ndarray, count: int | None = None) -> list[str]:
    """The strings back; ValueError unless the offsets fit the text (and the count, if given)."""
    text = bytes(blob).decode("utf-8", "surrogatepass")
    if (offsets.ndim != 1 or len(offsets) == 0 or int(offsets[0]) != 0
            or int(offsets[-1]) != len(text) or np.any(np.diff(offsets) < 0)
            or (count is not None and len(offsets) != count + 1)):
        raise ValueError("framing does not match")
    bounds = offsets.tolist()
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def string_arrays(name: str, strings: list[str] | tuple[str, ...]) -> dict[str, np.ndarray]:
    """The two arrays `name` and `name_offsets` that store a list of strings in an entry."""
    blob, offsets = pack_strings(strings)
    return {name: blob, f"{name}_offsets": offsets}


def read_strings(z, name: str, count: int | None = None) -> list[str]:
    return unpack_strings(z[name], z[f"{name}_offsets"], count)


# ---- writing ----

def write_entry(path: Path, arrays: dict[str, np.ndarray], label: str) -> None:
    """Write an entry atomically (a temp file named for this process, then a rename), user-only."""
    private_folder(path.parent)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays, **string_arrays(LABEL_KEY, [label]))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _pid_running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or no way to tell: assume it is alive
    return True


def remove_stale(folder: Path | None = None, now: float | None = None) -> int:
    """Remove temp files left by killed writers, and entries of old cache formats; the count."""
    folder = folder or cache_dir()
    if folder is None:
        return 0
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        if _LOCK.match(e.name):
            removed += _remove_unheld_lock(Path(e.path), now)
            continue
        temp = _TEMP.match(e.name)
        old = _OLD.match(e.name)
        if not temp and not old:
            continue
        try:
            age = now - e.stat(follow_symlinks=False).st_mtime
            writer_gone = bool(temp) and not _pid_running(int(temp.group(1)))
            if old and not e.name.endswith(".tmp") or age > STALE_TEMP_SECONDS or writer_gone:
                os.unlink(e.path)
                removed += 1
        except OSError:
            pass  # gone already, or not ours to remove
    return removed


def _remove_unheld_lock(path: Path, now: float) -> int:
    """Remove an old lock file that no process holds (its builder was killed); 1 if removed.

    Removing it while holding it is safe: a waiter checks it still has the file at that path.
    """
    if fcntl is None:
        return 0
    try:
        if now - path.stat().st_mtime < STALE_TEMP_SECONDS:
            return 0
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path.unlink()
        return 1
    except OSError:
        return 0  # held: a build is going on
    finally:
        os.close(fd)


@contextmanager
def build_lock(entry: Path, on_wait: Callable[[], None] | None = None,
               timeout: float = LOCK_WAIT_SECONDS,
               on_long_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock for building this entry; wait while another process holds it.

    An flock dies with its holder, so a killed builder never leaves the others waiting; the
    holder removes the lock file when done, and a waiter that finds it replaced tries again.
    Where locks are not possible (no fcntl, an unwritable folder) this simply goes ahead.
    The holder writes its process id in the lock file; a wait past LOCK_NOTICE_SECONDS calls
    `on_long_wait` once with a line saying whom it waits for and how long it will.
    """
    if fcntl is None:
        yield
        return
    lock_path = entry.with_name(entry.name + ".lock")
    started = time.monotonic()
    deadline = started + timeout
    told = noticed = False
    fd = -1
    while True:
        try:
            private_folder(entry.parent)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            fd = -1
            if time.monotonic() > deadline:
                yield  # a builder that hangs: build without it
                return
            if on_wait and not told:
                on_wait()
                told = True
            if on_long_wait and not noticed and time.monotonic() - started > LOCK_NOTICE_SECONDS:
                noticed = True
                holder = _holder(lock_path)
                on_long_wait(f"waiting for another qa{f' (process {holder})' if holder else ''} "
                             f"building the same index; up to {timeout:.0f} s in all, then "
                             "building it here (a stopped one can be resumed with fg)")
            time.sleep(LOCK_POLL_SECONDS)
            continue
        try:
            held = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except OSError:
            held = False
        if held:
            try:
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
            except OSError:
                pass
            break
        os.close(fd)  # the file was removed by the builder before us: lock the new one
        fd = -1
    try:
        yield
    finally:
        try:
            os.unlink(lock_path)
        except OSError:
            pass
        os.close(fd)


def _holder(lock_path: Path) -> int | None:
    """The process id a builder wrote in its lock file, if any."""
    try:
        text = lock_path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and len(text) < 10 else None


# ---- what `qa cache` shows and clears ----

@dataclass(frozen=True)
class Entry:
    kind: str  # "index", "page", or "other" (temp and lock files, old formats)
    path: Path
    size: int
    modified: float
    label: str


def entries(folder: Path | None = None) -> list[Entry]:
    """Every file of the cache folder qa wrote, entries first, newest first."""
    folder = folder or cache_dir()
    if folder is None or not folder.is_dir():
        return []
    out = []
    for e in os.scandir(folder):
        m = _ENTRY.match(e.name)
        if not (m or _TEMP.match(e.name) or _LOCK.match(e.name) or _OLD.match(e.name)):
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        kind, label = "other", "temp, lock or old-format file"
        if m:
            kind, label = m.group(1), _label(Path(e.path))
        out.append(Entry(kind, Path(e.path), st.st_size, st.st_mtime, label))
    out.sort(key=lambda x: (x.kind == "other", -x.modified))
    return out


def _label(path: Path) -> str:
    try:
        with np.load(path, allow_pickle=False) as z:
            return read_strings(z, LABEL_KEY, 1)[0]
    except Exception:  # damaged: it will be rebuilt when next used
        return "(damaged: rebuilt when next used)"


def clear(folder: Path | None = None) -> tuple[int, int]:
    """Remove every file qa wrote to the cache folder; (files removed, bytes freed)."""
    count = size = 0
    for e in entries(folder):
        try:
            e.path.unlink()
        except OSError:
            continue
        count += 1
        size += e.size
    return count, size
