"""The customer's account pages as HTML strings, in Russian and English: sign-in, the code, "my requests" and one
request with its thread and what the customer may do now. Also the sign-in message the channel delivers.

Like the knowledge base's pages (:mod:`.page_html`): no script, plain forms, every value escaped here. Each
form that acts carries a random key (the act's idempotency key, :mod:`.customer_acts`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from html import escape

from priyom_contracts import CustomerTicket, CustomerTicketSummary

from .page_html import page

TEXT = {
    "ru": {
        "title": "Мои обращения",
        "sign_in": "Вход в личный кабинет",
        "identifier": "E-mail или Telegram ID из вашей карточки клиента",
        "send_code": "Получить код",
        "code_sent": "Если этот адрес или Telegram подтверждён в вашей карточке, мы отправили туда код. "
        "Он действует {minutes} минут.",
        "code": "Код из сообщения",
        "enter": "Войти",
        "wrong_code": "Код неверен или больше не действует. Проверьте код или запросите новый.",
        "bad_identifier": "Укажите e-mail или числовой Telegram ID.",
        "new_code": "Запросить новый код",
        "too_many": "Слишком много попыток. Попробуйте через {seconds} с.",
        "off": "Вход в личный кабинет сейчас недоступен.",
        "unavailable": "Сервис временно недоступен, попробуйте позже.",
        "sign_out": "Выйти",
        "none": "Обращений пока нет.",
        "new_request": "Новое обращение",
        "request_sent": "Обращение отправлено; оно появится в списке через несколько секунд.",
        "number": "Номер",
        "subject": "Тема",
        "status": "Статус",
        "updated": "Обновлено",
        "back": "← Все обращения",
        "thread": "Переписка",
        "history": "История",
        "you": "Вы",
        "support": "Поддержка",
        "reply": "Ответить",
        "files": "Файлы:",
        "send": "Отправить",
        "sent": "Сообщение отправлено; оно появится в переписке через несколько секунд.",
        "resolution": "Предложенное решение",
        "verdict": "Вопрос решён?",
        "confirm": "Да, решено",
        "decline": "Нет, не решено",
        "reason": "Что осталось нерешённым",
        "rate": "Оцените, как мы справились",
        "rated": "Ваша оценка: {rating} из 5. Спасибо!",
        "comment": "Комментарий (необязательно)",
        "not_found": "Обращение не найдено.",
        "no_subject": "(без темы)",
        "mail_subject": "Код для входа в личный кабинет",
        "mail_body": "Ваш код для входа в личный кабинет: {code}\n\nКод действует {minutes} минут.{where}\n"
        "Если вы не запрашивали код, просто проигнорируйте это сообщение.",
        "mail_where": "\nВведите его на странице {url}",
    },
    "en": {
        "title": "My requests",
        "sign_in": "Sign in to your account",
        "identifier": "The e-mail or Telegram ID on your customer card",
        "send_code": "Send me a code",
        "code_sent": "If this address or Telegram account is verified on your card, a code is on its way. "
        "It is valid for {minutes} minutes.",
        "code": "The code from the message",
        "enter": "Sign in",
        "wrong_code": "The code is wrong or no longer valid. Check it or ask for a new one.",
        "bad_identifier": "Give an e-mail address or a numeric Telegram ID.",
        "new_code": "Ask for a new code",
        "too_many": "Too many attempts. Try again in {seconds} s.",
        "off": "Signing in is not available now.",
        "unavailable": "The service is unavailable for a moment; please try again later.",
        "sign_out": "Sign out",
        "none": "No requests yet.",
        "new_request": "New request",
        "request_sent": "Your request is sent; it appears in the list in a few seconds.",
        "number": "Number",
        "subject": "Subject",
        "status": "Status",
        "updated": "Updated",
        "back": "← All requests",
        "thread": "Conversation",
        "history": "History",
        "you": "You",
        "support": "Support",
        "reply": "Reply",
        "files": "Files:",
        "send": "Send",
        "sent": "Your message is sent; it appears in the conversation in a few seconds.",
        "resolution": "The proposed solution",
        "verdict": "Is the issue resolved?",
        "confirm": "Yes, resolved",
        "decline": "No, not resolved",
        "reason": "What is still not resolved",
        "rate": "Rate how we did",
        "rated": "Your rating: {rating} of 5. Thank you!",
        "comment": "Comment (optional)",
        "not_found": "No such request.",
        "no_subject": "(no subject)",
        "mail_subject": "Your sign-in code",
        "mail_body": "Your code to sign in to your account: {code}\n\nIt is valid for {minutes} minutes.{where}\n"
        "If you did not ask for it, just ignore this message.",
        "mail_where": "\nEnter it at {url}",
    },
}

STATUS = {
    "ru": {"new": "Новое", "open": "В работе", "pending": "Ждёт вашего ответа", "resolved": "Решено, ждёт "
           "подтверждения", "closed": "Закрыто", "accepted": "Принято", "cancelled": "Отменено",
           "review": "На рассмотрении", "needs_info": "Нужны сведения", "rejected": "Отклонено",
           "investigation": "Расследование", "action_plan": "План действий", "awaiting_confirm": "Ждёт "
           "подтверждения"},
    "en": {"new": "New", "open": "In progress", "pending": "Waiting for you", "resolved": "Resolved, awaiting "
           "your confirmation", "closed": "Closed", "accepted": "Accepted", "cancelled": "Cancelled",
           "review": "Under review", "needs_info": "Needs information", "rejected": "Rejected",
           "investigation": "Investigation", "action_plan": "Action plan", "awaiting_confirm": "Awaiting "
           "your confirmation"},
}

_LANGUAGE_LINKS = '<p class="meta"><a href="?lang=ru">Русский</a> · <a href="?lang=en">English</a></p>'


def sign_in_message(language: str, code: str, minutes: int, url: str) -> tuple[str, str]:
    """The subject and text of the message that carries a code."""
    t = TEXT[language]
    where = t["mail_where"].format(url=url) if url else ""
    return t["mail_subject"], t["mail_body"].format(code=code, minutes=minutes, where=where)


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _status(language: str, status: str) -> str:
    return escape(STATUS[language].get(status, status))


def notice_page(language: str, key: str, **values: object) -> str:
    """A page that only says something (too many attempts, signing in is off, a peer is down)."""
    t = TEXT[language]
    return page(t["title"], f'<h1>{t["title"]}</h1><p role="alert">{escape(t[key].format(**values))}</p>'
                f'<p><a href="/account/sign-in?lang={language}">{t["sign_in"]}</a></p>', language)


def sign_in_page(language: str, problem: str | None = None) -> str:
    t = TEXT[language]
    alert = f'<p role="alert" class="problem">{escape(t[problem])}</p>' if problem else ""
    body = (f'<h1>{t["sign_in"]}</h1>{_LANGUAGE_LINKS}{alert}'
            f'<form method="post" action="/account/sign-in"><input type="hidden" name="lang" value="{language}">'
            f'<label>{t["identifier"]}<br><input name="identifier" required maxlength="320" '
            f'autocomplete="email"></label> <button type="submit">{t["send_code"]}</button></form>')
    return page(t["sign_in"], body, language)


def code_page(language: str, attempt: uuid.UUID, minutes: int, wrong: bool = False) -> str:
    t = TEXT[language]
    said = t["wrong_code"] if wrong else t["code_sent"].format(minutes=minutes)
    body = (f'<h1>{t["sign_in"]}</h1><p role="{"alert" if wrong else "status"}">{escape(said)}</p>'
            f'<form method="post" action="/account/code"><input type="hidden" name="attempt" value="{attempt}">'
            f'<input type="hidden" name="lang" value="{language}">'
            f'<label>{t["code"]}<br><input name="code" required inputmode="numeric" pattern="[0-9]{{6,8}}" '
            f'maxlength="8" autocomplete="one-time-code"></label> <button type="submit">{t["enter"]}</button>'
            f'</form><p><a href="/account/sign-in?lang={language}">{t["new_code"]}</a></p>')
    return page(t["sign_in"], body, language)


def _header(language: str) -> str:
    t = TEXT[language]
    return (f'<form method="post" action="/account/sign-out" class="sign-out" style="float:right">'
            f'<button type="submit">{t["sign_out"]}</button></form>')


def requests_page(language: str, items: list[CustomerTicketSummary], sent: bool = False) -> str:
    t = TEXT[language]
    if items:
        rows = "".join(
            f'<tr><td><a href="/account/requests/{i.number}">{i.number}</a></td>'
            f'<td>{escape(i.subject or t["no_subject"])}</td><td class="status">{_status(language, i.status)}</td>'
            f'<td>{_when(i.updated_at)}</td></tr>' for i in items)
        listing = (f'<table class="requests"><thead><tr><th>{t["number"]}</th><th>{t["subject"]}</th>'
                   f'<th>{t["status"]}</th><th>{t["updated"]}</th></tr></thead><tbody>{rows}</tbody></table>')
    else:
        listing = f'<p class="requests">{t["none"]}</p>'
    notice = f'<p class="sent" role="status">{t["request_sent"]}</p>' if sent else ""
    new = f'<p><a href="/account/new-request?lang={language}" class="new-request">{t["new_request"]}</a></p>'
    return page(t["title"], f'{_header(language)}<h1>{t["title"]}</h1>{notice}{new}{listing}', language)


def _form(number: str, act: str, inner: str, button: str, files: bool = False) -> str:
    enctype = ' enctype="multipart/form-data"' if files else ""
    return (f'<form method="post" action="/account/requests/{number}/{act}" class="{act}"{enctype}>'
            f'<input type="hidden" name="key" value="{uuid.uuid4()}">{inner}'
            f'<button type="submit">{button}</button></form>')


def _actions(language: str, ticket: CustomerTicket, final: bool) -> str:
    t = TEXT[language]
    n = ticket.number
    parts = []
    if ticket.awaits_verdict:
        result = f'<p class="result">{escape(ticket.result)}</p>' if ticket.result else ""
        parts.append(f'<section class="verdict"><h2>{t["verdict"]}</h2>{result}'
                     f'{_form(n, "confirm", "", t["confirm"])}'
                     + _form(n, "decline", f'<label>{t["reason"]}<br><textarea name="reason" required '
                             f'maxlength="2000" rows="3"></textarea></label><br>', t["decline"]) + "</section>")
    if ticket.rating is not None:
        parts.append(f'<p class="rating" role="status">{escape(t["rated"].format(rating=ticket.rating))}</p>')
    elif ticket.rateable:
        stars = "".join(f'<label><input type="radio" name="rating" value="{r}" required> {r}</label> '
                        for r in range(1, 6))
        parts.append(f'<section class="rate"><h2>{t["rate"]}</h2>' + _form(
            n, "rate", f'<p>{stars}</p><label>{t["comment"]}<br><input name="comment" maxlength="2000"></label> ',
            t["send"]) + "</section>")
    if not final:
        parts.append(f'<section class="reply"><h2>{t["reply"]}</h2>' + _form(
            n, "reply", f'<textarea name="text" required maxlength="20000" rows="5"></textarea><br><label>{t["files"]} '
            '<input type="file" name="files" multiple></label><br>', t["send"], files=True)
            + "</section>")
    return "".join(parts)


def request_page(language: str, ticket: CustomerTicket, *, final: bool, sent: bool) -> str:
    """One request: status, the actions open to the customer now, the thread, the status history."""
    t = TEXT[language]
    messages = "".join(
        f'<li class="message {m.direction}"><p class="meta">'
        f'{escape(t["you"] if m.direction == "inbound" else (m.author or t["support"]))} · {_when(m.created_at)}'
        f'</p><div class="body" style="white-space:pre-wrap">{escape(m.body)}</div>'
        + "".join(f'<p class="meta">📎 {escape(a.filename)} ({a.size} B)</p>' for a in m.attachments) + "</li>"
        for m in ticket.messages)
    history = "".join(f'<li>{_when(h.at)}: {_status(language, h.to_status)}</li>' for h in ticket.history)
    notice = f'<p class="sent" role="status">{t["sent"]}</p>' if sent else ""
    body = (f'{_header(language)}<p><a href="/account">{t["back"]}</a></p>'
            f'<h1>{ticket.number}: {escape(ticket.subject or t["no_subject"])}</h1>'
            f'<p>{t["status"]}: <strong class="status">{_status(language, ticket.status)}</strong></p>{notice}'
            f'{_actions(language, ticket, final)}'
            f'<h2>{t["thread"]}</h2><ol class="thread">{messages}</ol>'
            f'<h2>{t["history"]}</h2><ul class="history">{history}</ul>')
    return page(f"{ticket.number}", body, language)
