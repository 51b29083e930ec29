# The two commands of the README:
#   make book   set up (once) and build the website into _build/html
#   make test   set up (once) and run every test
# Both are idempotent: the virtual environment in .venv is created once and reinstalled only
# when requirements.txt or pyproject.toml change.

PYTHON ?= python3
# TensorFlow's C++ start-up notices go to stderr; keep them out of executed pages and test logs.
export TF_CPP_MIN_LOG_LEVEL ?= 2
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test setup system-packages bench results clean

book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going

test: setup
	$(BIN)/python -m pytest

# The heavy, precomputed results the chapters load (about two hours on a 2-core CPU).
results: setup
	$(BIN)/python -m resnet_lib.experiments plain-depths
	$(BIN)/python -m resnet_lib.experiments resnet50 --batch-norm-momentum 0.9
	$(BIN)/python -m resnet_lib.experiments resnet50

bench: setup
	$(BIN)/python bench/throughput.py

setup: system-packages $(STAMP)

system-packages:
	@tools/ensure_system_packages.sh graphviz

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed, found " + sys.version.split()[0] + ": run make PYTHON=/path/to/python3.x")'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

clean:
	rm -rf _build
