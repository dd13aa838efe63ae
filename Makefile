# The course's commands. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

# Data root: an explicit COURSE_DATA_ROOT wins; otherwise use ../shared/data when it is there.
ifeq ($(origin COURSE_DATA_ROOT), undefined)
ifneq ($(wildcard ../shared/data),)
export COURSE_DATA_ROOT := $(abspath ../shared/data)
endif
endif
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup book test unit notebooks-test lab execute student benchmark benchmark-training speedrun clean distclean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)  ## create .venv and install the pinned dependencies and course_lib

book: $(STAMP)  ## build the HTML book into _build/html (stored outputs; zero warnings allowed)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Open _build/html/index.html"

test: $(STAMP) unit notebooks-test  ## unit tests, doctests and nbval over every notebook (quick mode)

unit: $(STAMP)  ## unit tests and doctests of course_lib
	COURSE_MODE=quick $(BIN)/python -m pytest -q tests course_lib

notebooks-test: $(STAMP)  ## run every notebook in quick mode under nbval (--nbval-lax)
	COURSE_MODE=quick $(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	    --nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg -o addopts="" $(NOTEBOOKS)

lab: $(STAMP)  ## JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks

execute: $(STAMP)  ## re-run every notebook in full mode and store its outputs (what the book shows)
	COURSE_MODE=full $(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)

student: $(STAMP)  ## write the student edition (solutions removed) to student/
	$(BIN)/python scripts/make_student_edition.py notebooks student

benchmark: $(STAMP)  ## time conv2d and pooling against torch and the naive loops
	$(BIN)/python benchmarks/bench_ops.py

benchmark-training: $(STAMP)  ## training images per second of each source network (CPU, and GPU if present)
	$(BIN)/python benchmarks/bench_training.py

speedrun: $(STAMP)  ## chapter 18's CIFAR-10 speedrun on all 50,000 images (17 min on the 2-core CPU that built the book)
	$(BIN)/python benchmarks/speedrun.py --preset 94

clean:  ## remove the built book
	rm -rf _build

distclean: clean  ## also remove .venv and the student edition
	rm -rf $(VENV) student
