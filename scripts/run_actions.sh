#!/usr/bin/env bash
# Starts the rasa-sdk action server on loopback (SANIC_HOST is rasa-sdk's bind address).
set -euo pipefail
cd "$(dirname "$0")/.."
export HEALTHBOT_WARM_UP="${HEALTHBOT_WARM_UP:-1}"
export SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}"
exec .venv/bin/python -m rasa_sdk --actions actions --port "${ACTIONS_PORT:-5055}" "$@"
