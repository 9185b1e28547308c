"""The Telegram channel: consent first, then text, taps, photos and documents go to Rasa.

Every handler starts with ``_admit``: private chats only, the per-chat rate limit, and consent.
Until a patient agrees to the /start notice nothing they send reaches Rasa or the upload store.
Logs name a conversation by its hashed sender id prefix only, never by chat id or content.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
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

from bot.consent import ConsentStore
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.ratelimit import RateLimiter
from bot.senders import sender_id
from bot.settings import EdgeSettings
from bot.telegram import files, replies, texts
from bot.uploads import UploadInfo, UploadNotFound, UploadRejected, UploadStore

logger = logging.getLogger(__name__)

CONSENT_YES, CONSENT_NO = "consent:yes", "consent:no"
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for about 5 s
MAX_WARNED = 10_000
Context = ContextTypes.DEFAULT_TYPE


def short(sender: str) -> str:
    """The part of a sender id that is safe and sufficient for logs."""
    return sender[:11]


class TelegramChannel:
    """Handlers for one bot; register them on an Application with ``register``."""

    def __init__(
        self,
        settings: EdgeSettings,
        rasa: RasaClient,
        store: UploadStore,
        secret: bytes,
        consent: ConsentStore,
        payloads: replies.ButtonPayloads | None = None,
    ) -> None:
        self.settings, self.rasa, self.store, self.consent = settings, rasa, store, consent
        self._secret = secret
        self.limiter = RateLimiter(settings.telegram_rate_per_minute)
        self.payloads = payloads or replies.ButtonPayloads()
        self.download_limit = files.download_limit(settings.upload_max_bytes)
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
        days = self.settings.upload_retention_days
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
            await self._turn(context.bot, update.effective_chat.id, sender, "/forget_me")

    async def on_human(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context)
        if sender is not None:
            await self._turn(context.bot, update.effective_chat.id, sender, "/request_human")

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
        await self._turn(context.bot, chat_id, sender, payload)

    # --- messages --------------------------------------------------------------------------

    async def on_text(self, update: Update, context: Context) -> None:
        sender = await self._admit(update, context)
        if sender is not None:
            await self._turn(
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
        if not self.limiter.allow(sender):
            logger.info("rate limited %s", short(sender))
            if sender not in self._warned:
                if len(self._warned) >= MAX_WARNED:
                    self._warned.clear()
                self._warned.add(sender)
                await self._send(context.bot, chat.id, texts.SLOW_DOWN)
            return None
        self._warned.discard(sender)
        if needs_consent and not self.consent.has(sender):
            await self._send(
                context.bot,
                chat.id,
                texts.consent_reminder(self.settings.upload_retention_days),
                consent_keyboard(),
            )
            return None
        return sender

    async def _turn(
        self,
        bot: Bot,
        chat_id: int,
        sender: str,
        text: str,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        """One turn with Rasa; says "try again" when Rasa is unreachable (False then)."""
        try:
            await self.converse(bot, chat_id, sender, text, metadata)
        except RasaUnavailable as error:
            logger.warning("Rasa unavailable for %s (%s)", short(sender), error)
            await self._send(bot, chat_id, texts.UNREACHABLE)
            return False
        return True

    async def converse(
        self,
        bot: Bot,
        chat_id: int,
        sender: str,
        text: str,
        metadata: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Sends ``text`` to Rasa and delivers the replies; raises RasaUnavailable."""
        async with typing(bot, chat_id):
            answers = await self.rasa.send(sender, text, metadata)
        await self.deliver(bot, chat_id, sender, answers)
        if replies.confirms_forgotten(answers):
            await self._forgotten(sender)
        return answers

    async def deliver(
        self, bot: Bot, chat_id: int, sender: str, answers: Sequence[dict[str, Any]]
    ) -> None:
        """Rasa's replies as Telegram messages: text (+ inline keyboard), then any image."""
        for answer in answers:
            text, buttons = answer.get("text"), answer.get("buttons")
            markup = replies.keyboard(buttons, self.payloads) if isinstance(buttons, list) else None
            if (isinstance(text, str) and text.strip()) or markup is not None:
                body = text if isinstance(text, str) and text.strip() else texts.CHOOSE
                await self._send(bot, chat_id, body, markup)
            image = answer.get("image")
            if isinstance(image, str) and image:
                await self._send_image(bot, chat_id, sender, image)

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
        """Caption first (red flags), then download, store and hand the upload id to Rasa."""
        chat_id = message.chat_id
        rasa_down = False
        if message.caption:
            try:
                await self.converse(bot, chat_id, sender, message.caption)
            except RasaUnavailable as error:
                logger.warning("Rasa unavailable for %s (%s)", short(sender), error)
                rasa_down = True
        if refusal is not None:
            await self._send(bot, chat_id, refusal)
            if rasa_down:
                await self._send(bot, chat_id, texts.UNREACHABLE)
            return
        info = await self._save(bot, chat_id, sender, attachment, filename)
        if info is None:
            if rasa_down:
                await self._send(bot, chat_id, texts.UNREACHABLE)
            return
        intent = "/check_photo" if info.kind == "image" else "/analyze_record"
        metadata = {"upload_id": info.id, "kind": info.kind, "channel": "telegram"}
        if not rasa_down:
            try:
                await self.converse(bot, chat_id, sender, intent, metadata)
                return
            except RasaUnavailable as error:
                logger.warning("Rasa unavailable for %s (%s)", short(sender), error)
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
            return await asyncio.to_thread(self.store.save, sender, data, filename)
        except UploadRejected as rejected:
            logger.info("upload refused for %s (%s)", short(sender), rejected.code)
            await self._send(bot, chat_id, rejected.message)
            return None

    async def _send_image(self, bot: Bot, chat_id: int, sender: str, image: str) -> None:
        """``upload:<id>`` (the patient's own stored image) or an http(s) URL."""
        if image.startswith("upload:"):
            upload_id = image.removeprefix("upload:")
            try:
                info = await asyncio.to_thread(self.store.info, upload_id)
                if info.owner != sender or info.kind != "image":
                    logger.warning("image reply refused for %s (owner/kind)", short(sender))
                    return
                data = await asyncio.to_thread(self.store.read, upload_id)
            except UploadNotFound:
                logger.warning("image reply names a missing upload for %s", short(sender))
                return
            await bot.send_photo(chat_id, photo=data)
        elif image.startswith(("https://", "http://")):
            await bot.send_photo(chat_id, photo=image)
        else:
            logger.warning("image reply with an unsupported reference for %s", short(sender))

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
