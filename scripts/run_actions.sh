#!/usr/bin/env bash
# Starts the rasa-sdk action server on loopback (SANIC_HOST is rasa-sdk's bind address).
set -euo pipefail
cd "$(dirname "$0")/.."
export HEALTHBOT_WARM_UP="${HEALTHBOT_WARM_UP:-1}"
# One OpenMP thread (torch, FAISS) per request: the actions serve many small requests beside a
# busy Rasa process, where a second thread only spins waiting for a core. Measured with one core
# busy: a knowledge-base answer 54 ms (p50; max 233) with 2 threads, 18 ms (max 24) with 1
# (bench/RESULTS.md). Set OMP_NUM_THREADS to override; ONNX Runtime sessions set their own.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export SANIC_HOST="${ACTIONS_HOST:-127.0.0.1}"
exec .venv/bin/python -m actions --actions actions --port "${ACTIONS_PORT:-5055}" "$@"
