"""The edge: Telegram bot, web gateway and widget, upload store (the channels issue builds it)."""
