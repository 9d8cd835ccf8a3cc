"""The operator's signing key on disk: one line, the signer key string, mode 0600.

The file is created exclusively (never overwriting a key) with owner-only
permissions from the first byte, and a key file that others may read is refused,
as ssh refuses such a private key. Nothing here prints or logs the key.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ledger.errors import KeyFormatError
from ledger.publish.note import Signer, parse_signer_key

KEY_FILE_MODE = 0o600


def create_key_file(path: Path, name: str) -> Signer:
    """Generate a key named ``name`` and write it to a new file at ``path`` (mode 0600)."""
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyFormatError(
            f"a key file already exists at {path}; refusing to overwrite it"
        ) from None
    try:
        os.fchmod(fd, KEY_FILE_MODE)  # the umask may have narrowed it; never widened
        os.write(fd, (signer.to_string() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return signer


def load_key_file(path: Path) -> Signer:
    """Read the key at ``path``; refuse a missing file, a malformed key, or loose permissions."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFormatError(f"no key file at {path}: run 'tally init' or pass --key") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFormatError(
            f"expected key file {path} to be readable by its owner only (mode 0600), "
            f"found mode {stat.S_IMODE(info.st_mode):04o}"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (UnicodeDecodeError, OSError) as exc:
        raise KeyFormatError(f"cannot read key file {path}: {type(exc).__name__}") from None
    try:
        return parse_signer_key(text)
    except KeyFormatError as exc:
        raise KeyFormatError(f"key file {path} is malformed: {exc}") from None
