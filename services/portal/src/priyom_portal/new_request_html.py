"""The account's new-request page as HTML, in Russian and English: the form, and after "next" the knowledge base's
articles that match what the customer wrote, each with "this helped", before the request is sent.

The page offers the articles while the customer types, as the web form does, with the portal's own script
(static/new_request.js, the only one its pages load); the texts it shows are the page's ``data-*`` attributes.
Without the script the same offer comes as a step of the form: "next" shows the articles and the form again,
filled in, with "send". "This helped" posts to the article's feedback form with the form's key as the suggestion
session, so the page counts in the deflection rate as the web form's do.
"""

from __future__ import annotations

import uuid
from html import escape

from .articles import SearchHit
from .customer_acts import MAX_TEXT
from .page_html import page

#: Where the page's script is served (static/new_request.js).
SCRIPT_PATH = "/account/new-request.js"

#: The longest subject the form takes.
MAX_SUBJECT = 200

TEXT = {
    "ru": {
        "title": "Новое обращение",
        "back": "← Все обращения",
        "subject": "Тема",
        "text": "Опишите вопрос",
        "next": "Далее",
        "send": "Отправить обращение",
        "offered": "Возможно, ответ уже есть в базе знаний:",
        "helped": "Это помогло",
        "not_helped": "Не нашли ответа? Отправьте обращение:",
        "nothing": "Подходящих статей не нашлось. Отправьте обращение:",
        "too_long": "Напишите тему до {subject} символов и текст до {text} символов.",
    },
    "en": {
        "title": "New request",
        "back": "← All requests",
        "subject": "Subject",
        "text": "Describe your question",
        "next": "Next",
        "send": "Send the request",
        "offered": "The knowledge base may already have the answer:",
        "helped": "This helped",
        "not_helped": "No answer there? Send the request:",
        "nothing": "No matching articles. Send the request:",
        "too_long": "Write a subject of at most {subject} characters and a text of at most {text}.",
    },
}


def _offer(language: str, hits: list[SearchHit], key: uuid.UUID) -> str:
    t = TEXT[language]
    if not hits:
        return f'<p class="offered">{t["nothing"]}</p>'
    items = "".join(
        f'<li data-article="{h.id}"><a href="/kb/{h.id}">{escape(h.title)}</a><p class="snippet">{escape(h.snippet)}'
        f'</p><form method="post" action="/kb/{h.id}/feedback"><input type="hidden" name="helped" value="yes">'
        f'<input type="hidden" name="session" value="{key}"><button type="submit">{t["helped"]}</button></form></li>'
        for h in hits)
    return f'<section class="offered"><h2>{t["offered"]}</h2><ol class="results">{items}</ol><p>{t["not_helped"]}</p></section>'


def new_request_page(language: str, key: uuid.UUID, *, subject: str = "", text: str = "",
                     hits: list[SearchHit] | None = None, too_long: bool = False) -> str:
    """The form (``hits`` None: not checked yet, the button is "next"), or the articles found and the form to send."""
    t = TEXT[language]
    alert = (f'<p role="alert" class="problem">{escape(t["too_long"].format(subject=MAX_SUBJECT, text=MAX_TEXT))}</p>'
             if too_long else "")
    offer = _offer(language, hits, key) if hits is not None else ""
    step, button = ("send", t["send"]) if hits is not None else ("check", t["next"])
    live = (f'<section id="suggestions" class="offered" aria-live="polite" hidden data-offered="{t["offered"]}" '
            f'data-helped="{t["helped"]}" data-send="{t["send"]}"></section>'
            f'<script src="{SCRIPT_PATH}" defer></script>')
    body = (f'<p><a href="/account">{t["back"]}</a></p><h1>{t["title"]}</h1>{alert}{offer}{live}'
            f'<form method="post" action="/account/new-request" class="new-request">'
            f'<input type="hidden" name="key" value="{key}"><input type="hidden" name="lang" value="{language}">'
            f'<label>{t["subject"]}<br><input name="subject" maxlength="{MAX_SUBJECT}" value="{escape(subject)}">'
            f'</label><br><label>{t["text"]}<br><textarea name="text" required maxlength="{MAX_TEXT}" rows="6">'
            f'{escape(text)}</textarea></label><br>'
            f'<button type="submit" name="step" value="{step}">{button}</button></form>')
    return page(t["title"], body, language)
