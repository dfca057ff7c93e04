"""``GET /chat/files/{reply_id}/{n}``: a file an agent attached to an answer, for the visitor to download.

The reply's id is the capability: random (tickets makes it with uuid4), sent only to the visitor's widget
(and shown to staff, who see the file anyway), and it opens only the files of that one answer, only while
its conversation is kept (retention and erasure end it). So the link works as a plain ``<a download>`` from
the company's page, with no token in a URL and no cross-origin request. The file is always served as a
download of unknown type, never rendered on this origin.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from priyom_kit.blobs import BlobStore

from .history import ChatHistory


def chat_files_router(history: ChatHistory, blobs: BlobStore) -> APIRouter:
    router = APIRouter(tags=["website chat"])

    @router.get("/chat/files/{reply_id}/{index}", summary="A file attached to an agent's answer in the chat")
    async def answer_file(reply_id: uuid.UUID, index: int) -> Response:
        found = await history.answer_file(str(reply_id), index)
        if found is None:
            return JSONResponse({"detail": "no such file"}, status_code=404)
        name, key = found
        try:
            data = await blobs.get(key)
        except KeyError:  # erased from the blob store
            return JSONResponse({"detail": "no such file"}, status_code=404)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, max-age=3600",
            },
        )

    return router
