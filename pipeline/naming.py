"""Safe file names for outputs derived from what a unit submitted (file names, unit names).

A name that came from outside may hold path separators, `..`, control characters, Windows-reserved
device names or be too long for the file system once a suffix is added; outputs must land where the
bureau expects them, openable on Windows too.
"""

from __future__ import annotations

import re
import unicodedata

#: Bytes kept of a derived name: ext4/NTFS allow 255, and suffixes such as `_审核结果.xlsx` need room.
MAX_NAME_BYTES = 150

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def safe_filename(name: str, *, fallback: str = "未命名", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name (without directory) that is safe on Linux and Windows and no longer than max_bytes."""
    text = unicodedata.normalize("NFC", str(name))
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text).strip(" .")
    if _RESERVED.match(text):
        text = f"_{text}"
    encoded = text.encode("utf-8")[:max_bytes]
    text = encoded.decode("utf-8", errors="ignore").strip(" .")
    return text or fallback
