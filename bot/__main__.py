"""``python -m bot``: start the edge (web gateway + widget, Telegram when configured)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys

from bot.web.clinics import ClinicsFileError
from healthbot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--host", help="bind address (default HEALTHBOT_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default HEALTHBOT_WEB_PORT or 8080)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry URLs (bot token)
    settings = Settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    settings.web = settings.web.model_copy(update=overrides)
    import uvloop  # uvicorn's fast loop (it ships with the ASGI stack)

    from bot.edge import serve

    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(serve(settings))
    except ClinicsFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
