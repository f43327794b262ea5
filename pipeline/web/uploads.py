"""Uploads streamed to disk as they arrive, under names jixiao makes, never the client's path.

`receive(request, folder)` parses a multipart body chunk by chunk (python-multipart's streaming parser): each
file part goes straight to `folder/part-<n>.upload`; the client's file name is kept as text only (reduced to a
safe base name by `client_name`). The body's size is bounded by `security.BodyLimit` while it streams; plain
fields are bounded here. Raises `BadUpload` (a Chinese reason) for a body that is not a form upload.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from pipeline.naming import safe_filename

MAX_FIELD_BYTES = 64 * 1024  # a text field of a form (CSRF token, 提交码): far below this
MAX_PARTS = 8  # the portal's forms have at most four parts
MSG_NOT_MULTIPART = "请通过页面上的表单上传文件"
MSG_TOO_MANY = "表单内容过多"


class BadUpload(ValueError):
    """The request body is not an upload the portal's forms send."""


class TooLarge(Exception):
    """The request body passed the portal's size limit while it streamed (`security.BodyLimit`)."""


@dataclass(slots=True)
class Saved:
    field: str
    path: Path  # folder/part-<n>.upload
    client_name: str  # the base name the client gave, made safe; shown, never used as a path
    size: int = 0


@dataclass(slots=True)
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[Saved] = field(default_factory=list)

    def file(self, name: str) -> Saved | None:
        """The non-empty file sent in field `name`, if any."""
        return next((f for f in self.files if f.field == name and f.size > 0), None)


def client_name(raw: str) -> str:
    """A browser's file name (`C:\\x\\表.xlsx`, `../../x.xlsx`) → its base name, safe as a file name."""
    base = PureWindowsPath(PurePosixPath(raw.replace("\0", "")).name).name.strip()
    suffix = "".join(c for c in Path(base).suffix.lower() if c.isalnum() or c == ".")[:6]
    return safe_filename(Path(base).stem or "上传文件") + suffix


class _State:
    """The parser's callbacks: headers of the current part, then its data to a file or a field."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.upload = Upload()
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.data = bytearray()
        self.out: IO[bytes] | None = None
        self.saved: Saved | None = None

    def header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field = self.header_value = b""

    def headers_finished(self) -> None:
        if len(self.upload.files) + len(self.upload.fields) >= MAX_PARTS:
            raise BadUpload(MSG_TOO_MANY)
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            return
        path = self.folder / f"part-{len(self.upload.files)}.upload"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.out = open(fd, "wb")  # noqa: SIM115 - closed at the part's end, or by `close`
        self.saved = Saved(self.name, path, client_name(filename.decode("utf-8", "replace")))

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None and self.saved is not None:
            self.out.write(data[start:end])
            self.saved.size += end - start
        else:
            self.data += data[start:end]
            if len(self.data) > MAX_FIELD_BYTES:
                raise BadUpload(MSG_TOO_MANY)

    def part_end(self) -> None:
        if self.out is not None and self.saved is not None:
            self.out.close()
            self.upload.files.append(self.saved)
        else:
            self.upload.fields[self.name] = self.data.decode("utf-8", "replace")
        self.out, self.saved, self.data, self.headers = None, None, bytearray(), {}

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


async def receive(request: Request, folder: Path) -> Upload:
    """The form fields and the files of a multipart request, the files written into `folder` as they arrive."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadUpload(MSG_NOT_MULTIPART)
    state = _State(folder)
    callbacks = {
        "on_header_field": lambda d, s, e: setattr(state, "header_field", state.header_field + d[s:e]),
        "on_header_value": lambda d, s, e: setattr(state, "header_value", state.header_value + d[s:e]),
        "on_header_end": state.header_end,
        "on_headers_finished": state.headers_finished,
        "on_part_data": state.part_data,
        "on_part_end": state.part_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (BadUpload, TooLarge):
        raise
    except Exception as exc:  # the body is not well-formed multipart
        raise BadUpload(MSG_NOT_MULTIPART) from exc
    finally:
        state.close()
    return state.upload
