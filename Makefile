# EECS 182 Discussion 5 autograder. The two commands: `make grade` and `make test`.
# Each creates .venv and installs the pinned requirements on first use.

PYTHON_SYSTEM ?= python3
VENV          := .venv
PY            := $(VENV)/bin/python
STAMP         := $(VENV)/.installed

# make grade knobs
SUBMISSIONS ?= solutions/dis05.ipynb assignment/dis05.ipynb examples/submissions
OUT         ?= grades
TIMEOUT     ?=
JOBS        ?=
MEMORY_MB   ?=
Q1          ?= 1
FORCE       ?= 0
RERUN       ?= 0
DRY_RUN     ?= 0
OVERRIDES   ?= overrides.yaml
SCHEDULER   ?=
RETRIES     ?=
VARIANTS    ?= 0
REQUIRE_ISOLATION ?= 0
# make test knobs: SLOW=0 skips the tests that run notebooks, training or otter
SLOW        ?= 1

GRADE_FLAGS := --out $(OUT) \
	$(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(JOBS),--jobs $(JOBS)) \
	$(if $(MEMORY_MB),--memory-mb $(MEMORY_MB)) $(if $(filter 0,$(Q1)),--no-q1) \
	$(if $(filter 1,$(FORCE)),--force) $(if $(filter 1,$(RERUN)),--rerun) \
	$(if $(filter 1,$(DRY_RUN)),--dry-run) --overrides '$(OVERRIDES)' \
	$(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(RETRIES),--retries $(RETRIES)) \
	$(if $(filter 1,$(REQUIRE_ISOLATION)),--require-isolation) \
	$(if $(filter 1,$(VARIANTS)),--variants)
PYTEST_FLAGS := $(if $(filter 0,$(SLOW)),-m "not slow")

.PHONY: help venv grade review test assign autograder goldens lint bench clean

help:
	@echo "make grade      grade SUBMISSIONS (default: the bundled examples) into OUT (default grades/)"
	@echo "                its knobs (TIMEOUT=s JOBS=n FORCE=1 RERUN=1 DRY_RUN=1 ...) are described once,"
	@echo "                in the settings tree: README's table, or $(PY) -m autograder grade --help"
	@echo "make review     serve OUT/review.html on 127.0.0.1: decide answer groups, Apply writes"
	@echo "                OVERRIDES (default overrides.yaml, a .bak kept) and regrades from the cache"
	@echo "make test       run the test suite (SLOW=0 skips notebook/training/otter tests)"
	@echo "make assign     regenerate assignment/ and solutions/ notebooks and the Gradescope zip"
	@echo "make autograder build autograder/dist/dis05-autograder.zip"
	@echo "make goldens    refresh the golden files after an intended change"
	@echo "make bench      print grading speed numbers"

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e . || \
		$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

grade: $(STAMP)
	$(PY) -m autograder grade $(SUBMISSIONS) $(GRADE_FLAGS)

review: $(STAMP)
	$(PY) -m autograder review --out $(OUT) --overrides '$(OVERRIDES)' \
		$(if $(filter command line environment,$(origin SUBMISSIONS)),$(SUBMISSIONS))

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_FLAGS)

assign: $(STAMP)
	$(PY) -m autograder assign $(if $(filter 1,$(VARIANTS)),--variants)

autograder: assign

goldens: $(STAMP)
	$(PY) -m tests.goldens

lint: $(STAMP)
	$(PY) -m ruff check autograder tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_grade.py
	$(PY) benchmarks/bench_q1.py

clean:
	rm -rf $(OUT) autograder/dist .pytest_cache
