"""What leadgov creates on disk only its owner can read: the database, the inbox's moved files,
result and return files, reports (SECURITY.md, Who can see it).

Each door sets the process umask once, when it builds its runtime (``build_runtime``), so that
every file a command, a flow run or the demo creates is 0600 and every folder 0700, whichever
code writes it. Two cases the umask cannot cover are handled where they happen: the SQLite file
(created here before SQLite opens it, so that it never depends on the umask of whoever opened it
first; SQLite gives its -wal and -shm files the database's mode) and a delivery moved into
``processed/`` or ``refused/`` (a rename keeps the supplier's mode).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The umask of a leadgov process: nothing for the group or others.
PRIVATE_UMASK = 0o077
#: The mode of a file leadgov creates, and of a folder.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_umask() -> None:
    """Create every later file of this process 0600 and every folder 0700 (at most)."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` as a folder, it and its missing parents created 0700; existing folders are left as
    they are (the operator chose them)."""
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode goes through the umask
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty and 0600 when it does not exist yet (its folder 0700); an existing
    file is left as it is."""
    private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    os.close(descriptor)
    os.chmod(path, PRIVATE_FILE)
    return path


def make_private(path: Path) -> Path:
    """Restrict a file leadgov took over (e.g. moved from the inbox) to its owner: 0600."""
    os.chmod(path, PRIVATE_FILE)
    return path
