"""The files a customer attaches to a reply: put in the blob store every service shares (``PRIYOM_BLOB_DIR`` or
S3), and carried on the bus as :class:`~priyom_contracts.AttachmentRef`, as every channel's files are; tickets
shows them on the customer's message.

The whole request is capped before it is read (:class:`~priyom_portal.body_cap.BodyCap`, the files' limits);
here each file is checked on its own and the count is limited.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile

from priyom_contracts import AttachmentRef
from priyom_kit.blobs import BlobStore

#: What a form's own fields and the multipart framing add to the files' bytes.
FORM_OVERHEAD_BYTES = 256 * 1024


class FileRefused(ValueError):
    """Too many files, or one too large: the message says which."""


@dataclass(frozen=True)
class FileLimits:
    max_files: int
    max_file_bytes: int

    @property
    def max_request_bytes(self) -> int:
        return self.max_files * self.max_file_bytes + FORM_OVERHEAD_BYTES


async def store_files(form: FormData, blobs: BlobStore, limits: FileLimits) -> list[AttachmentRef]:
    """Every non-empty file of the form's ``files`` field, stored; :class:`FileRefused` past a limit."""
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if len(files) > limits.max_files:
        raise FileRefused(f"at most {limits.max_files} files")
    refs = []
    for file in files:
        data = await file.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise FileRefused(f"{file.filename}: larger than {limits.max_file_bytes} bytes")
        if not data:
            continue
        refs.append(AttachmentRef(blob_key=await blobs.put(data), filename=file.filename[-255:],
                                  content_type=(file.content_type or "application/octet-stream")[:255],
                                  size=len(data)))
    return refs
