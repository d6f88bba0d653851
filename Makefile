# Two commands on a fresh machine: `make run` (set up, build the index if missing, serve the page)
# and `make test`. Everything lives in .venv/ (packages), .cache/models/ (provisioned e5), index/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the last file `assistant models` writes: the e5 folder and its question graphs are then complete
E5 := .cache/models/multilingual-e5-small/onnx/query.int8.onnx
HOST ?= 127.0.0.1
PORT ?= 7860

AXE := tests/axe/node_modules/axe-core/axe.min.js

.PHONY: run test test-fast setup models index eval bench browser-deps server-deps axe-deps clean

run: setup models index
	$(PY) ui.py --host $(HOST) --port $(PORT)

test: setup models browser-deps server-deps axe-deps
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

setup: $(STAMP)

# torch first, pinned: 2.13.0 is the CPU build on this disk; anything else pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

models: setup $(E5)

$(E5):
	$(PY) -m assistant models

index: setup models
	$(PY) -m assistant build --if-needed

eval: index
	$(PY) eval/score.py eval/dev.jsonl

bench: index
	$(PY) -m assistant bench

# Browser tests drive Debian's chromium with a CJK font (without one, Chinese renders as boxes).
browser-deps:
	@if [ -f ui.py ] && { ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; }; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; fi

# The replica test (tests/test_replicas.py) runs Debian's nginx in front of two replicas (deploy/nginx.conf).
server-deps:
	@if [ -f ui.py ] && [ ! -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx; fi

# axe-core (npm, pinned in tests/axe/package.json) is injected into the page by the accessibility test;
# node_modules/ stays out of git.
axe-deps: $(AXE)

$(AXE): tests/axe/package.json
	command -v npm >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; }
	npm install --prefix tests/axe --no-package-lock --no-audit --no-fund
	touch $(AXE)

clean:
	rm -rf index/ .cache/ $(VENV) tests/axe/node_modules
