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

#: What the file system takes for one name (ext4, XFS, btrfs: 255 bytes; a name of 85 CJK characters is 255).
FS_NAME_BYTES = 255

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


def fit_name(stem: str, tail: str, *, limit: int = FS_NAME_BYTES) -> str:
    """`stem + tail` cut, from the end of `stem`, to `limit` UTF-8 bytes (never inside a character): a name a
    unit sent at 253 bytes still fits once jixiao numbers it `…(2).xlsx`. A tail longer than half the limit
    (an odd "extension") is cut as well."""
    tail_bytes = tail.encode("utf-8")
    if len(tail_bytes) > limit // 2:
        tail = tail_bytes[: limit // 2].decode("utf-8", errors="ignore")
        tail_bytes = tail.encode("utf-8")
    room = limit - len(tail_bytes)
    return stem.encode("utf-8")[:room].decode("utf-8", errors="ignore") + tail
