"""The public form page: one self-contained HTML file (no CDN, no external assets) with a few settings."""

from __future__ import annotations

import html
from importlib.resources import files

from .settings import IntakeWebSettings


def render_page(settings: IntakeWebSettings) -> str:
    """Fill the template's ``{{name}}`` slots (HTML-escaped) once, at start."""
    values = {
        "tickets_url": settings.tickets_public_url.rstrip("/"),
        "kb_url": settings.kb_url.rstrip("/"),
        "max_message_chars": str(settings.max_message_chars),
        "max_attachments": str(settings.max_attachments),
        "max_attachment_bytes": str(settings.max_attachment_bytes),
        "max_attachment_mib": f"{settings.max_attachment_bytes / 1024 / 1024:g}",
        "max_request_bytes": str(settings.max_request_bytes),
        "consent_required": "required" if settings.require_consent else "",
    }
    text = files(__package__).joinpath("templates/contact_form.html").read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", html.escape(value, quote=True))
    return text
