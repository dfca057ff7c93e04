"""The Telegram channel: Bot API updates in, replies out (aiogram 3 as the Bot API client)."""
