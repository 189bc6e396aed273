"""Write a report file so that a reader (CI, a browser, `latest`) never sees
half of it: write a temporary file beside it, then rename it into place."""
import os
import tempfile


def _default_mode():
    """What open() would have given a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_bytes(path, data):
    """Replace path with data atomically (same directory, so os.replace is a rename)."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            # On disk before the rename: a crash then leaves the old file
            # or the new one, never an empty one under the real name.
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def symlink(target, path):
    """Point path at target atomically (a new link renamed over the old one)."""
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise
