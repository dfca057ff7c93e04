"""What Priyom's tests and benchmarks run against, in one place; never a dependency of a service.

``stack``             the real services as processes on a private bus prefix (``Stack``, ``stack_env``)
``calls``             an intake-telephony process on a fake PBX (``bridge``), or its bus side alone
                      (``TelephonyStandIn``)
``dovecot``           a throwaway Dovecot IMAP server (``start_dovecot``, ``dovecot_or_skip``)
``ami_server``        a local Asterisk Manager Interface server speaking the real wire protocol
``telegram_bot_api``  a local Telegram Bot API server
``json_webhook_peer`` the far end of the JSON webhook channel
``ports``             free local ports, and waiting for one to listen
``browser``           Chromium for Playwright (``CHROMIUM``, ``needs_chromium``) and an ASGI app on a real
                      port (``served``)
``chaos``             the chaos run: four channels of customers, services killed, the broker restarted

The fakes speak the real protocols of what cannot run here; nothing is a mock of Priyom's own code. The
services never import this package (``.importlinter``), and it knows no service's internals: it starts them
as processes and speaks to them over HTTP, AMQP, IMAP and AMI.
"""
