#!/usr/bin/env bash
# Starts the Rasa server on loopback with the REST channel and the HTTP API (for /model/parse).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
# One BLAS thread per request: the MiniLM featurizer multiplies small matrices, where extra
# threads only fight concurrent requests for the cores (measured 2x faster per message).
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
mkdir -p var
# endpoints.yml reads these; defaults keep `make run` zero-config.
export ACTIONS_PORT="${ACTIONS_PORT:-5055}" HEALTHBOT_TRACKER_DB="${HEALTHBOT_TRACKER_DB:-var/tracker.db}"
exec .venv-rasa/bin/rasa run \
  --interface "${RASA_HOST:-127.0.0.1}" --port "${RASA_PORT:-5005}" \
  --model "${RASA_MODEL:-models/assistant.tar.gz}" \
  --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" --credentials credentials.yml \
  --enable-api --response-timeout 60 "$@"
