"""The action server's entry point: rasa-sdk's server, with the models warmed up at start.

``python -m actions`` (scripts/run_actions.sh) takes rasa-sdk's own arguments and starts
rasa-sdk's server the way ``python -m rasa_sdk`` does, with one step added: the app factory that
each Sanic worker runs registers a ``before_server_start`` listener that starts loading the
models in the background (``get_services().warm_up()``, when ``HEALTHBOT_WARM_UP`` is on). The
worker that serves requests is the process that holds the models; nothing loads at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.worker.loader import AppLoader

from actions.services import get_services

logger = logging.getLogger(__name__)


def _configure_logging(args: argparse.Namespace) -> None:
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()


async def _warm_up(app: Sanic, loop: Any) -> None:
    services = get_services()
    if services.settings.warm_up:
        services.warm_up()


def create_app(executor: ActionExecutor, **options: Any) -> Sanic:
    """rasa-sdk's app plus the warm-up listener (module level: Sanic pickles the factory)."""
    app = create_app_for_serve(executor, **options)
    app.register_listener(_warm_up, "before_server_start")
    return app


def serve(executor: ActionExecutor, args: argparse.Namespace) -> None:
    """rasa-sdk's ``endpoint.run`` with our app factory."""
    loader = AppLoader(
        factory=partial(
            create_app, executor, cors_origins=args.cors, auto_reload=args.auto_reload,
            endpoints=args.endpoints,
        )
    )  # fmt: skip
    app = loader.load()
    ssl = create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")  # noqa: S104 (rasa-sdk's default)
    logger.info("action server on %s://%s:%s", "https" if ssl else "http", host, args.port)
    app.prepare(host=host, port=args.port, ssl=ssl, workers=utils.number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)


def main(argv: Sequence[str] | None = None) -> int:
    """Register the actions and serve (HTTP; gRPC when asked, as rasa-sdk does)."""
    args = create_argument_parser().parse_args(argv)
    _configure_logging(args)
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    if args.grpc:
        from rasa_sdk.grpc_server import run_grpc

        services = get_services()
        if services.settings.warm_up:
            services.warm_up()
        asyncio.run(
            run_grpc(
                executor, args.port, args.ssl_certificate, args.ssl_keyfile, args.ssl_ca_file,
                args.auto_reload, args.endpoints,
            )
        )  # fmt: skip
        return 0
    serve(executor, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
