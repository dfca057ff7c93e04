"""Loop and noise protection: is this mail from a person, or an auto-reply, a bounce, a report or a list?

Auto-replies (RFC 3834 ``Auto-Submitted``, ``X-Autoreply``, ``Precedence: bulk/junk``, out-of-office
subjects) never open a ticket and never get an automatic answer. Bounces (RFC 3464 DSNs and the plain-text
notices of qmail, Exim, mail.ru and the like) are attached to the ticket they concern and name the addresses
that are undeliverable. Mailing-list mail is recognised by its ``List-*`` headers so the operator can decide.
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from enum import StrEnum


class MailKind(StrEnum):
    """Who wrote the mail, as far as its headers and structure tell."""

    PERSON = "person"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    REPORT = "report"  # ARF abuse/complaint reports and read receipts (MDN)
    LIST = "list"


_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheitsnotiz|away until"
    r"|réponse automatique|автоответ|автоматический ответ|вне офиса|нет на месте|в отпуске)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered mail|delivery status notification|delivery (has )?failed|mail delivery fail"
    r"|returned mail|failure notice|delivery failure|non[- ]?delivery|message not delivered|bounce notification"
    r"|недоставлен|не доставлено|не может быть доставлено|mail failure)",
    re.IGNORECASE,
)
_DAEMON_SENDER = re.compile(r"(mailer-daemon|postmaster|mail delivery (subsystem|system))", re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
#: qmail and friends: "<user@example.org>:" opening a failure paragraph.
_FAILED_LINE = re.compile(r"^\s*<([^<>\s]+@[^<>\s]+)>:?\s*$", re.MULTILINE)


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except Exception:  # noqa: BLE001 - a header the parser cannot render says nothing about its kind
        return ""


def classify(message: EmailMessage, *, subject: str, sender: str) -> MailKind:
    """The kind of one parsed mail (headers and structure only; the body is never read here)."""
    content_type = message.get_content_type()
    report_type = (message.get_param("report-type", "", header="content-type") or "")
    report_type = str(report_type).lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return MailKind.BOUNCE
    if content_type == "multipart/report" and report_type in ("feedback-report", "disposition-notification"):
        return MailKind.REPORT
    if _header(message, "X-Failed-Recipients"):
        return MailKind.BOUNCE
    if _DAEMON_SENDER.search(sender) and _BOUNCE_SUBJECT.search(subject):
        return MailKind.BOUNCE
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    precedence = _header(message, "Precedence").strip().lower()
    if _BOUNCE_SUBJECT.search(subject) and (auto_submitted.startswith("auto") or _DAEMON_SENDER.search(sender)):
        return MailKind.BOUNCE
    if (auto_submitted and auto_submitted != "no") or precedence in ("bulk", "junk", "auto_reply"):
        return MailKind.AUTO_REPLY
    if any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")):
        return MailKind.AUTO_REPLY
    if _header(message, "X-Auto-Response-Suppress").lower() in ("all", "oof") and _AUTO_SUBJECT.search(subject):
        return MailKind.AUTO_REPLY
    if _AUTO_SUBJECT.search(subject):
        return MailKind.AUTO_REPLY
    if precedence == "list" or _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return MailKind.LIST
    if _DAEMON_SENDER.search(sender):
        return MailKind.AUTO_REPLY  # a daemon that is not bouncing is still no person to answer
    return MailKind.PERSON


def undeliverable_addresses(message: EmailMessage, text: str) -> list[str]:
    """Addresses a bounce reports as failed: DSN ``Action: failed`` recipients, ``X-Failed-Recipients``,
    and the ``<address>:`` lines of plain-text notices. Delayed-delivery DSNs name none."""
    found: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload() if part.is_multipart() else []:
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
            if action.startswith("failed") and recipient:
                found += _ADDRESS.findall(recipient.split(";", 1)[-1])
    found += _ADDRESS.findall(_header(message, "X-Failed-Recipients"))
    if not found:
        found += _FAILED_LINE.findall(text)
    seen: dict[str, None] = {}
    for address in found:
        seen.setdefault(address.strip().lower(), None)
    return list(seen)[:50]
