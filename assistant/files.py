"""File-system steps that readers never see half done: write a file, replace a folder, one build at a time."""
from __future__ import annotations

import ctypes
import hashlib
import errno
import fcntl
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildInProgress

BUILD_LOCK = ".build.lock"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_tree(folder: Path) -> None:
    """Flush every file under `folder` to disk (before the rename that makes it live)."""
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and one rename: readers see the old text or the new."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not supported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # not glibc/Linux
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # this file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_folder(new: Path, dest: Path) -> None:
    """Make the complete folder `new` be `dest`, replacing what was there in one step: whoever opens `dest`
    finds the whole old folder or the whole new one, never none and never a partly written one.

    `os.replace` cannot replace a folder that has files, and removing the old one first leaves nothing
    there for a moment (a server starting then fails), so the two are exchanged and the old one removed.
    Where the file system cannot exchange, the old folder is renamed aside first: missing for an instant."""
    new, dest = Path(new), Path(dest)
    if not dest.exists():
        os.rename(new, dest)  # a folder onto a missing name: atomic (raises if another one appeared meanwhile)
        return
    if _exchange(new, dest):
        shutil.rmtree(new)  # `new` now names the old folder
        return
    aside = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    os.rename(dest, aside)
    os.rename(new, dest)
    shutil.rmtree(aside)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the build lock of `index_dir`, or raise BuildInProgress naming the build that holds it.

    An advisory lock (flock) on a file that is never deleted: the kernel releases it when the holder's
    process ends, however it ends, so a killed build never leaves a stale lock behind."""
    path = Path(index_dir) / BUILD_LOCK
    with open(path, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise BuildInProgress(f"another build is writing {index_dir} ({holder}); wait for it to finish — its "
                                  "index goes live when it is done — and run the build again only if you need "
                                  "one after it") from None
        try:
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}")
            f.flush()
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def removed_on_failure(tmp: Path, what: str, fix: str = "delete it by hand") -> Iterator[Path]:
    """Run a block that writes the unfinished folder `tmp`; when it fails, remove `tmp` and re-raise. A folder that
    cannot be removed is named on the error (`what`: "build", "model folder"; `fix`: what the reader should do)."""
    try:
        yield tmp
    except BaseException as e:
        try:
            shutil.rmtree(tmp)
        except OSError as cleanup:
            e.add_note(f"the unfinished {what} {tmp} could not be removed ({cleanup}); {fix}")
        raise
