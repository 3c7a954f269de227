# The course's commands. The README's two: `make lab` (open the course) and `make test` (run every test).
# Each creates the virtual environment first if it is missing or out of date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Offline machines (CI, developers): use the original data files beside the checkout if present.
ifeq ($(DGM_DATA_DIR),)
ifneq ($(wildcard ../shared/data/mnist-idx),)
export DGM_DATA_DIR := $(abspath ../shared/data)
endif
endif

.PHONY: env browser sandbox postgres lab lab-instructor test test-fast notebooks check edition lint assets site bench clean \
        release collect collect-zip grade feedback grades report

env: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# PYTHONWARNINGS: setuptools' editable-install notice is a screen of warnings, not a problem.
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Open the course in JupyterLab: `make lab` is the student view (what students run: no nbgrader instructor
## tools, Validate kept), `make lab-instructor` adds the formgrader and Create Assignment. Both read
## jupyter_config/ (JUPYTER_CONFIG_PATH: settings there say why) and open README.md.
# JupyterLab refuses to start as root (containers, CI) unless told.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
JUPYTER_LAB = $(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=$(CURDIR) README.md
CONFIG_PATH_TAIL := $(CURDIR)/jupyter_config$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))

lab: env
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter_config/student:$(CONFIG_PATH_TAIL) $(JUPYTER_LAB)

lab-instructor: env
	@# The formgrader's gradebook lives there (grading/settings.py); nbgrader does not create the folder.
	@mkdir -p "$$($(BIN)/python -c 'from grading import settings; print(settings.grading_dir())')"
	JUPYTER_CONFIG_PATH=$(CONFIG_PATH_TAIL) $(JUPYTER_LAB)

## Chromium for the end-to-end browser tests: Debian's package, installed when missing and run as root
## (CI, containers); otherwise those tests are skipped with a message saying how to get it.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
		|| echo "Could not install chromium: the browser tests will be skipped."; \
	else echo "No chromium (install it, e.g. apt-get install chromium): the browser tests will be skipped."; fi

## bubblewrap: the sandbox for student code at autograde (Debian package, installed when missing and root).
## Without it grading refuses to run student code; UNSANDBOXED=1 make grade grades unprotected (the report says so).
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null \
		|| echo "Could not install bubblewrap: grading will refuse to run student code (UNSANDBOXED=1 to grade unprotected)."; \
	else echo "No bwrap (install bubblewrap): grading will refuse to run student code (UNSANDBOXED=1 to grade unprotected)."; fi

## PostgreSQL: the gradebook server for grading a class in parallel (DGM_GRADEBOOK_URL), and what the
## tests start on loopback (Debian package, installed when missing and root; otherwise those tests skip).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null \
		|| echo "Could not install postgresql: the PostgreSQL grading tests will be skipped."; \
	else echo "No PostgreSQL (apt-get install postgresql): the PostgreSQL grading tests will be skipped."; fi

## Every test: package, generated files, lint, lectures, nbgrader validate, round trip, grading faults,
## JupyterLab, browser.
test: env browser sandbox postgres
	$(BIN)/python -m pytest --ignore=tests/test_site.py
	@# Then the website, from the lectures the run above executed (build/executed/), read offline in Chromium.
	$(BIN)/python -m pytest tests/test_site.py

## The quick part only (no notebook execution, no nbgrader runs).
test-fast: env
	$(BIN)/python -m pytest -m "not slow"

## Regenerate the notebooks from their text twins in source/, and the student labs.
notebooks: env
	$(BIN)/python tools/build.py

## Fail if anything committed differs from what generation gives, or holds outputs.
check: env
	$(BIN)/python tools/build.py --check

## The student edition: lectures, student labs, dgm and assets, without solutions or hidden tests (checked),
## in ../dgm-course-student (DGM_EDITION_DIR), to publish at pyproject's "Student edition" address (README).
edition: env
	$(BIN)/python tools/edition.py

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Rebuild the embedded data subset in assets/data (needs the full data once: download or DGM_DATA_DIR).
assets: env
	$(BIN)/python -c 'from dgm import data; [print(data.build_subset(d)) for d in data.DATASETS]'

## The course website in build/site/ (open build/site/index.html): the lectures as executed in FAST mode,
## reusing the copies the notebook tests saved in build/executed/ and executing only missing or stale ones.
site: env
	$(BIN)/python tools/site.py

## Benchmark: FAST execution and autograde seconds per notebook, written to BENCHMARK.md.
bench: env
	$(BIN)/python tools/bench.py

## Instructors: grade a lab. LAB=lab02_kl; ZIP=export.zip (Colab/LMS); ID_RULE='regex with (?P<id>...)'; JOBS=2.
LAB   ?= lab02_kl
JOBS  ?= 1
GRADE := $(BIN)/python -m grading

release: env
	$(GRADE) release $(LAB)
collect: env
	$(GRADE) collect $(LAB) --exchange
collect-zip: env
	$(GRADE) collect $(LAB) --zip $(ZIP) $(if $(ID_RULE),--id-rule '$(ID_RULE)')
grade: env sandbox
	$(GRADE) check $(LAB)
	$(GRADE) autograde $(LAB) --jobs $(JOBS) $(if $(UNSANDBOXED),--unsandboxed)
feedback: env
	$(GRADE) feedback $(LAB)
grades: env
	$(GRADE) export $(LAB) --to grades-$(LAB).csv
	$(GRADE) report $(LAB)
report: env
	$(GRADE) report $(LAB)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
