"""The Telegram channel: consent first, then text, taps, photos and documents go to Rasa.

Every handler starts with ``_admit``: private chats only, the per-chat rate limit, and consent.
Until a patient agrees to the /start notice nothing they send reaches Rasa or the upload store.
Logs name a conversation by its hashed sender id prefix only, never by chat id or content.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.conversation import Conversations, RateLimited, Reply, StoredImage, TextRefused, Turn
from bot.rasa_client import Rasa, RasaUnavailable
from bot.ratelimit import RateLimiter
from bot.senders import sender_id, short
from bot.telegram import files, replies, texts
from healthbot.contract import FORGET_ME, REQUEST_HUMAN
from healthbot.settings import Settings
from healthbot.stores.consent import ConsentStore
from healthbot.stores.uploads import UploadInfo, UploadRejected, UploadStore

logger = logging.getLogger(__name__)

CONSENT_YES, CONSENT_NO = "consent:yes", "consent:no"
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for about 5 s
MAX_WARNED = 10_000
Context = ContextTypes.DEFAULT_TYPE


class TelegramChannel:
    """Handlers for one bot; register them on an Application with ``register``."""

    def __init__(
        self,
        settings: Settings,
        rasa: Rasa,
        store: UploadStore,
        secret: bytes,
        consent: ConsentStore,
        payloads: replies.ButtonPayloads | None = None,
    ) -> None:
        self.settings, self.store, self.consent = settings, store, consent
        self._secret = secret
        limiter = RateLimiter(settings.telegram.rate_per_minute)
        self.core = Conversations(rasa, store, settings.max_message_chars, limiter)
        self.payloads = payloads or replies.ButtonPayloads()
        self.download_limit = files.download_limit(settings.uploads.max_bytes)
        self._warned: set[str] = set()  # senders told to slow down (told once per streak)

    def register(self, app: Application) -> None:
        app.add_handler(CommandHandler("start", self.on_start))
        app.add_handler(CommandHandler("help", self.on_help))
        app.add_handler(CommandHandler("forget", self.on_forget))
        app.add_handler(CommandHandler("human", self.on_human))
        app.add_handler(CallbackQueryHandler(self.on_consent, pattern=r"^consent:(yes|no)$"))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(filters.PHOTO, self.on_photo))
        app.add_handler(MessageHandler(filters.Document.ALL, self.on_document))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(MessageHandler(filters.COMMAND, self.on_unknown_command))
        app.add_handler(MessageHandler(filters.ALL, self.on_unsupported))
        app.add_error_handler(self.on_error)

    def sender_of(self, chat_id: int) -> str:
        return sender_id(self._secret, "tg", str(chat_id))

    # --- commands --------------------------------------------------------------------------

    async def on_start(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context, needs_consent=False)
        if sender is None:
            return
        chat_id = update.effective_chat.id
        days = self.settings.uploads.retention_days
        if self.consent.has(sender):
            await self._send(context.bot, chat_id, texts.welcome(days, ask=False))
            await self._send(context.bot, chat_id, texts.ALREADY_AGREED)
        else:
            await self._send(context.bot, chat_id, texts.welcome(days), consent_keyboard())

    async def on_help(self, update: Update, context: Context) -> None:
        if await self._admit(update, context, needs_consent=False) is not None:
            await self._send(context.bot, update.effective_chat.id, texts.help_text())

    async def on_forget(self, update: Update, context: Context) -> None:
        """Runs Rasa's confirm flow; the confirmed deletion also revokes consent."""
        sender = await self._admit(update, context)
        if sender is not None:
            await self._say(context.bot, update.effective_chat.id, sender, FORGET_ME)

    async def on_human(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context)
        if sender is not None:
            await self._say(context.bot, update.effective_chat.id, sender, REQUEST_HUMAN)

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        if await self._admit(update, context, needs_consent=False) is not None:
            await self._send(context.bot, update.effective_chat.id, texts.UNKNOWN_COMMAND)

    # --- taps ------------------------------------------------------------------------------

    async def on_consent(self, update: Update, context: Context) -> None:
        query = update.callback_query
        await _answer(query)
        sender = await self._admit(update, context, needs_consent=False)
        if sender is None:
            return
        chat_id = update.effective_chat.id
        await _remove_keyboard(query)
        if query.data == CONSENT_YES:
            self.consent.grant(sender)
            logger.info("consent granted by %s", short(sender))
            await self._send(context.bot, chat_id, texts.CONSENT_THANKS)
        elif self.consent.revoke(sender):
            logger.info("consent withdrawn by %s", short(sender))
            await self._send(context.bot, chat_id, texts.CONSENT_WITHDRAWN)
        else:
            await self._send(context.bot, chat_id, texts.CONSENT_DECLINED)

    async def on_button(self, update: Update, context: Context) -> None:
        """A tap on a Rasa button: show the choice, then send its payload as the patient's turn."""
        query = update.callback_query
        await _answer(query)
        sender = await self._admit(update, context)
        if sender is None or not query.data:
            return
        chat_id = update.effective_chat.id
        payload = self.payloads.decode(query.data)
        if payload is None:
            await self._send(context.bot, chat_id, texts.BUTTON_EXPIRED)
            return
        markup = query.message.reply_markup if isinstance(query.message, Message) else None
        title = replies.button_title(markup, query.data) or payload
        await _remove_keyboard(query)
        await self._send(context.bot, chat_id, texts.CHOSE.format(title=title))
        await self._say(context.bot, chat_id, sender, payload)

    # --- messages --------------------------------------------------------------------------

    async def on_text(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context)
        if sender is not None:
            await self._say(
                context.bot, update.effective_chat.id, sender, update.effective_message.text
            )

    async def on_photo(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context)
        if sender is None:
            return
        photo = update.effective_message.photo[-1]  # the largest size
        too_big = photo.file_size is not None and photo.file_size > self.download_limit
        refusal = texts.too_large(self.download_limit) if too_big else None
        await self._receive_file(
            context.bot, update.effective_message, sender, photo, None, refusal
        )

    async def on_document(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context)
        if sender is None:
            return
        document = update.effective_message.document
        refusal = files.refusal(
            document.file_name, document.mime_type, document.file_size, self.download_limit
        )
        if refusal:
            logger.info("document refused before download for %s", short(sender))
        await self._receive_file(
            context.bot, update.effective_message, sender, document, document.file_name, refusal
        )

    async def on_unsupported(self, update: Update, context: Context) -> None:
        if update.effective_message is None:
            return
        if await self._admit(update, context) is not None:
            await self._send(context.bot, update.effective_chat.id, texts.UNSUPPORTED)

    # --- errors ----------------------------------------------------------------------------

    async def on_error(self, update: object, context: Context) -> None:
        """Logs the error type and where it happened (never content); apologises to the chat."""
        error = context.error
        where = ""
        if error is not None and error.__traceback__ is not None:
            frame = error.__traceback__
            while frame.tb_next is not None:
                frame = frame.tb_next
            where = f" at {frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}"
        logger.error("Telegram update failed: %s%s", type(error).__name__, where)
        if isinstance(update, Update) and update.effective_chat is not None:
            with suppress(TelegramError):
                await context.bot.send_message(update.effective_chat.id, texts.something_wrong())

    # --- the work --------------------------------------------------------------------------

    async def _admit(
        self, update: Update, context: Context, needs_consent: bool = True
    ) -> str | None:
        """The sender id when this update may go on; otherwise answers the chat and gives None."""
        chat = update.effective_chat
        if chat is None:
            return None
        if chat.type != ChatType.PRIVATE:
            await self._send(context.bot, chat.id, texts.PRIVATE_ONLY)
            return None
        sender = self.sender_of(chat.id)
        try:
            self.core.pace(sender)
        except RateLimited:
            await self._slow_down(context.bot, chat.id, sender)
            return None
        self._warned.discard(sender)
        if needs_consent and not self.consent.has(sender):
            await self._send(
                context.bot,
                chat.id,
                texts.consent_reminder(self.settings.uploads.retention_days),
                consent_keyboard(),
            )
            return None
        return sender

    async def _slow_down(self, bot: Bot, chat_id: int, sender: str) -> None:
        """Says "slow down" once per streak of refused updates, not once per update."""
        if sender in self._warned:
            return
        if len(self._warned) >= MAX_WARNED:
            self._warned.clear()
        self._warned.add(sender)
        await self._send(bot, chat_id, texts.SLOW_DOWN)

    async def _say(self, bot: Bot, chat_id: int, sender: str, text: str) -> None:
        """A text turn; says "try again" when Rasa is unreachable."""
        if not await self._relay(bot, chat_id, sender, self.core.say(sender, text)):
            await self._send(bot, chat_id, texts.UNREACHABLE)

    async def _relay(
        self, bot: Bot, chat_id: int, sender: str, work: Coroutine[Any, Any, Turn]
    ) -> bool:
        """Runs a core turn while showing "typing…", then delivers it; False when Rasa is down.

        A refused text is answered with the reason. After a turn that erased the conversation,
        consent is withdrawn and any upload left is deleted.
        """
        try:
            async with typing(bot, chat_id):
                turn = await work
        except RasaUnavailable:
            return False
        except TextRefused as refused:
            await self._send(bot, chat_id, refused.detail)
            return True
        await self.deliver(bot, chat_id, turn)
        if turn.forgotten:
            await self._forgotten(sender)
        return True

    async def deliver(self, bot: Bot, chat_id: int, turn: Turn) -> None:
        """The turn's replies as Telegram messages, in order."""
        for reply in turn.replies:
            await self._deliver_reply(bot, chat_id, reply)

    async def _deliver_reply(self, bot: Bot, chat_id: int, reply: Reply) -> None:
        """Text (+ inline keyboard), then the image: the patient's own bytes, or a URL."""
        markup = replies.keyboard(reply.buttons, self.payloads)
        if reply.text or markup is not None:
            await self._send(bot, chat_id, reply.text or texts.CHOOSE, markup)
        if isinstance(reply.image, StoredImage):
            data = await self.core.image_bytes(reply.image)
            if data is not None:
                await bot.send_photo(chat_id, photo=data)
        elif reply.image is not None:
            await bot.send_photo(chat_id, photo=reply.image)

    async def _forgotten(self, sender: str) -> None:
        """Rasa erased the conversation: withdraw consent and make sure the files are gone."""
        removed = await asyncio.to_thread(self.store.delete_owner, sender)
        self.consent.revoke(sender)
        logger.info(
            "forgot %s (consent revoked, %d more upload(s) removed)", short(sender), removed
        )

    async def _receive_file(
        self,
        bot: Bot,
        message: Message,
        sender: str,
        attachment: Any,
        filename: str | None,
        refusal: str | None,
    ) -> None:
        """Caption first (red flags), then download, store and hand the upload id to Rasa.

        The patient hears "try again" once: after the refusal, or with the file's reference.
        """
        chat_id = message.chat_id
        reachable = not message.caption or await self._relay(
            bot, chat_id, sender, self.core.say_caption(sender, message.caption)
        )
        if refusal is not None:
            await self._send(bot, chat_id, refusal)
            info = None
        else:
            info = await self._save(bot, chat_id, sender, attachment, filename)
        if info is None:
            if not reachable:
                await self._send(bot, chat_id, texts.UNREACHABLE)
            return
        if not reachable or not await self._relay(
            bot, chat_id, sender, self.core.announce(sender, info, "telegram")
        ):
            await self._send(bot, chat_id, texts.file_kept(info.id))

    async def _save(
        self, bot: Bot, chat_id: int, sender: str, attachment: Any, filename: str | None
    ) -> UploadInfo | None:
        """Downloads and stores the file; answers the chat and gives None when that fails."""
        try:
            async with typing(bot, chat_id, ChatAction.UPLOAD_DOCUMENT):
                telegram_file = await attachment.get_file()
                data = bytes(await telegram_file.download_as_bytearray())
        except TelegramError as error:
            logger.warning("download failed for %s (%s)", short(sender), type(error).__name__)
            await self._send(bot, chat_id, texts.DOWNLOAD_FAILED)
            return None
        try:
            return await self.core.save(sender, data, filename)
        except UploadRejected as rejected:
            logger.info("upload refused for %s (%s)", short(sender), rejected.code)
            await self._send(bot, chat_id, rejected.message)
            return None

    @staticmethod
    async def _send(
        bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """Plain text, split to Telegram's size; the keyboard goes on the last piece."""
        pieces = replies.split_text(text)
        for number, piece in enumerate(pieces, start=1):
            await bot.send_message(
                chat_id,
                piece,
                reply_markup=markup if number == len(pieces) else None,
                link_preview_options=NO_PREVIEW,
            )


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def consent_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.AGREE, callback_data=CONSENT_YES),
                InlineKeyboardButton(texts.DECLINE, callback_data=CONSENT_NO),
            ]
        ]
    )


@asynccontextmanager
async def typing(bot: Bot, chat_id: int, action: str = ChatAction.TYPING) -> AsyncIterator[None]:
    """Shows ``action`` ("typing…") until the block ends, renewing it every few seconds."""
    with suppress(TelegramError):
        await bot.send_chat_action(chat_id, action)

    async def renew() -> None:
        while True:
            await asyncio.sleep(TYPING_EVERY_S)
            with suppress(TelegramError):
                await bot.send_chat_action(chat_id, action)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def _answer(query: CallbackQuery) -> None:
    """Stops the button's spinner; a stale query (too old to answer) is not an error."""
    with suppress(TelegramError):
        await query.answer()


async def _remove_keyboard(query: CallbackQuery) -> None:
    """Takes the buttons off the tapped message, so the same choice can't be sent twice."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        with suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)
