"""The website chat: a widget on the company's pages (``GET /chat/widget.js``) talking to this service over a
WebSocket (``/chat/ws``), a channel on the adapter kit like Telegram.

A visitor's first message becomes a contact and a ticket; the following ones carry the same thread
(``chat:<visitor>``), so tickets files them on the open ticket, as it does a Telegram chat's. Agents' replies
come back through the outbound queue and reach the widget live, and wait in the conversation for a visitor
who is away.
"""
