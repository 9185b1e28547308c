#!/usr/bin/env bash
# Starts the Rasa server on loopback with the REST channel and the HTTP API (for /model/parse).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
mkdir -p var
# endpoints.yml reads these; defaults keep `make run` zero-config.
export ACTIONS_PORT="${ACTIONS_PORT:-5055}" HEALTHBOT_TRACKER_DB="${HEALTHBOT_TRACKER_DB:-var/tracker.db}"
exec .venv-rasa/bin/rasa run \
  --interface "${RASA_HOST:-127.0.0.1}" --port "${RASA_PORT:-5005}" \
  --model "${RASA_MODEL:-models/assistant.tar.gz}" \
  --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" --credentials credentials.yml \
  --enable-api --response-timeout 60 "$@"
