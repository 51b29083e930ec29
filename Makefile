# The commands of the README:
#   make book   set up (once) and build the website into _build/html
#   make test   set up (once) and run every test (about 14 minutes on 2 cores, set-up included)
#   make check  set up (once) and run the quick tier: the tests that run no chapter, about 2.5 minutes on 2 cores
# All are idempotent: the virtual environment in .venv is created once and reinstalled only
# when requirements.txt or pyproject.toml change.

PYTHON ?= python3
# pip installs without compiling every module to bytecode: Python compiles what is imported, once, on first use
# (TensorFlow's wheel alone is thousands of modules that no chapter or test imports): 81 s -> 38 s for
# requirements.txt on this 2-core machine.
PIP_INSTALL := -m pip install --quiet --no-compile
# TensorFlow's C++ start-up notices go to stderr; keep them out of executed pages and test logs.
export TF_CPP_MIN_LOG_LEVEL ?= 2
# TensorFlow's oneDNN kernels: several times faster training on CPUs without AVX-512, where TensorFlow
# leaves them off (see bench/ and the book's appendix on performance). `import resnet_lib` sets this
# too, but only takes effect if it comes before TensorFlow's import; the test suite imports Keras first.
export TF_ENABLE_ONEDNN_OPTS ?= 1
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Where kernels started by the virtual environment read their settings (tools/ipython_kernel_config.py).
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.py

.PHONY: book notebooks lab test check student setup venv-python system-packages site-js test-extras test-system-packages test-js test-colab-env colab-env test-backends bench results sweep landscape clean

book: setup site-js
	$(BIN)/jupyter-book build . -W -n --keep-going

# The chapters converted for Jupyter, Colab and the student copies (notebooks/book/, committed): the MyST of
# book/ as plain markdown, HTML and $math$ (tools/jupyter_notebooks.py). Run it after editing a chapter's text.
notebooks: setup
	$(BIN)/python tools/jupyter_notebooks.py --write

# JupyterLab on the MyST sources, rendered as on the website (jupyterlab-myst). Colab and plain Jupyter:
# open notebooks/book/ instead.
lab: setup
	$(BIN)/jupyter lab book/

# Student notebooks: the chapters as nbgrader's generate_assignment releases them, every solution region
# replaced by nbgrader's stub (run in a temporary course folder; see book/teachers.md).
student: setup
	$(BIN)/python tools/student_build.py --out _build/student

# The JavaScript the website serves itself: widgets, MathJax (npm, once; see tools/site_js/install.sh).
site-js:
	@tools/ensure_system_packages.sh npm
	@tools/site_js/install.sh

# The tests run in two processes on two cores (pytest-xdist): a file's tests stay together in one process, the longest
# files first (conftest.py). PYTEST_PROCESSES=0 runs them in this one process.
PYTEST_PROCESSES ?= auto
PARALLEL := -n $(PYTEST_PROCESSES) --maxprocesses 4 --dist loadfile --no-loadscope-reorder
test: system-packages test-system-packages
	@$(MAKE) --no-print-directory -j2 setup test-extras
	$(BIN)/python -m pytest $(PARALLEL)

# The edit-test loop: tests/ without the tests marked slow (pyproject.toml: the chapters, the website in
# Chromium, pip installs, nbgrader, real training runs), which `make test` runs too.
check: setup
	$(BIN)/python -m pytest $(PARALLEL) tests -m "not slow"

# What only the browser test needs: Chromium and the website's JavaScript. Where they cannot be
# installed, this says why and how, and the browser test is skipped with that reason.
# make test builds these beside `setup` (two jobs: the three virtual environments' pip installs overlap); the
# system packages come first, one apt-get at a time.
test-extras: test-system-packages
	@$(MAKE) --no-print-directory test-js test-colab-env

test-system-packages:
	@tools/ensure_system_packages.sh --optional chromium
	@tools/ensure_system_packages.sh --optional npm

test-js:
	@tools/site_js/install.sh || echo "WARNING: no website JavaScript (see above); the browser test will be skipped." >&2

test-colab-env:
	@$(MAKE) --no-print-directory colab-env || echo "WARNING: no Colab-like environment (see above); the Colab simulation test will be skipped." >&2

# A virtual environment that looks like Colab's runtime (tests/colab/preinstalled.txt: Python 3.12,
# Colab's TensorFlow and Keras ...) plus, in its wheelhouse, what pip would fetch for resnet-lib
# there; tests/test_colab.py installs the book's wheel on top of it as a chapter's Colab cell does.
COLAB_VENV := .venv-colab
COLAB_STAMP := $(COLAB_VENV)/.installed
COLAB_PREINSTALLED := $(COLAB_VENV)/.preinstalled
colab-env: $(COLAB_STAMP)

$(COLAB_PREINSTALLED): tests/colab/preinstalled.txt
	@python=$$(tools/find_python.sh python3.12 2>/dev/null || { echo "NOTE: no python3.12 (Colab's version): the Colab simulation uses $(PYTHON)." >&2; tools/find_python.sh $(PYTHON); }) && \
	  { [ -x $(COLAB_VENV)/bin/python ] || $$python -m venv $(COLAB_VENV); }
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COLAB_VENV)/bin/python $(PIP_INSTALL) -r tests/colab/preinstalled.txt
	@touch $@

# What pip would fetch for resnet-lib there. Built from a copy of the package, so that it never writes into this
# folder while `setup`'s editable install does (make test runs both at once).
$(COLAB_STAMP): $(COLAB_PREINSTALLED) pyproject.toml
	@copy=$$(mktemp -d) && trap 'rm -rf "$$copy"' EXIT && cp -r pyproject.toml README.md LICENSE resnet_lib "$$copy" && \
	  $(COLAB_VENV)/bin/python -m pip wheel --quiet --wheel-dir $(COLAB_VENV)/wheelhouse "$$copy"
	rm -f $(COLAB_VENV)/wheelhouse/resnet_lib-*.whl
	@touch $@

# resnet_lib on Keras' other backends: the library's unit tests (blocks, networks, weight transfer, data,
# training, the checks) with KERAS_BACKEND=jax and KERAS_BACKEND=torch, each in its own virtual environment
# without TensorFlow (tests/backends/requirements-<backend>.txt). Not part of `make test`: the chapters run on
# TensorFlow, and the landscape and lesion code (TensorFlow functions) is not among these tests. pytest leaves
# out the root conftest.py (the chapters' nbval set-up: -c /dev/null --confcutdir tests) and one deprecation
# warning that Keras' own code raises on NumPy 2.
BACKENDS := jax torch
BACKEND_STAMPS := $(foreach backend,$(BACKENDS),.venv-$(backend)/.installed)
BACKEND_TESTS := tests/test_backend.py tests/test_blocks.py tests/test_resnet50.py tests/test_depth_family.py \
	tests/test_basic_resnets.py tests/test_data.py tests/test_training.py tests/test_checks.py \
	tests/test_checks_landscape.py tests/test_classroom_library_options.py tests/test_fused_batch_norm.py
test-backends: $(BACKEND_STAMPS)
	@status=0; for backend in $(BACKENDS); do \
	  echo "== resnet_lib's unit tests with KERAS_BACKEND=$$backend"; \
	  KERAS_BACKEND=$$backend .venv-$$backend/bin/python -m pytest -c /dev/null --rootdir . --confcutdir tests \
	    -p no:cacheprovider -q -W "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning" \
	    $(BACKEND_TESTS) || status=1; \
	done; exit $$status

$(BACKEND_STAMPS): .venv-%/.installed: tests/backends/requirements-%.txt pyproject.toml
	@python=$$(tools/find_python.sh $(PYTHON)) && { [ -x .venv-$*/bin/python ] || $$python -m venv .venv-$*; }
	.venv-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-$*/bin/python $(PIP_INSTALL) -r $<
	.venv-$*/bin/python -m pip install --quiet --no-deps -e .
	@touch $@

# The heavy, precomputed results the chapters load (about 22 minutes on a 2-core CPU). The runs write
# under _build/results/; each finished file then replaces the one shipped in resnet_lib/results/.
RUNS := _build/results
results: setup
	$(BIN)/python -m resnet_lib.experiments depth-sweep --fresh --out $(RUNS)/depth_sweep.json
	$(BIN)/python -m resnet_lib.experiments plain-depths --out $(RUNS)/plain_depths.json
	$(BIN)/python -m resnet_lib.experiments resnet50 --batch-norm-momentum 0.9 --out $(RUNS)/resnet50_digits.json
	$(BIN)/python -m resnet_lib.experiments resnet50 --out $(RUNS)/resnet50_digits_keras_bn_momentum.json
	$(BIN)/python -m resnet_lib.experiments landscape --fresh --out $(RUNS)/landscape.json
	$(BIN)/python tools/ship_results.py $(RUNS)/depth_sweep.json $(RUNS)/plain_depths.json \
		$(RUNS)/resnet50_digits.json $(RUNS)/resnet50_digits_keras_bn_momentum.json $(RUNS)/landscape.json

# The depth explorer's sweep (chapter 7): 36 trainings, about 5 minutes on 2 cores; resumes if stopped.
sweep: setup
	$(BIN)/python -m resnet_lib.experiments depth-sweep --out $(RUNS)/depth_sweep.json
	$(BIN)/python tools/ship_results.py $(RUNS)/depth_sweep.json

# The loss landscapes and lesion studies (chapter 8): 12 networks trained as in the sweep, each with a 25x25
# loss surface, an interpolation and its lesions; about 8 minutes on 2 cores; resumes if stopped.
landscape: setup
	$(BIN)/python -m resnet_lib.experiments landscape --out $(RUNS)/landscape.json
	$(BIN)/python tools/ship_results.py $(RUNS)/landscape.json

# Every benchmark (half an hour to an hour on 2 cores, depending on the CPU): prints the figures and writes bench/results/ and bench/RESULTS.md.
bench: setup
	$(BIN)/python bench/run_all.py

setup: system-packages venv-python $(STAMP) $(KERNEL_CONFIG)

# An existing .venv made with another Python than PYTHON asks would be used silently: refuse it.
venv-python:
	@[ ! -x $(BIN)/python ] || { want=$$(tools/find_python.sh $(PYTHON)) && \
	  w=$$($$want -c 'import sys; print("%d.%d" % sys.version_info[:2])') && \
	  h=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') && \
	  { [ "$$w" = "$$h" ] || { echo "$(VENV) runs Python $$h, but PYTHON=$(PYTHON) is $$w: use another VENV=... (e.g. VENV=.venv-$$w) or remove $(VENV)." >&2; exit 1; }; }; }

system-packages:
	@tools/ensure_system_packages.sh graphviz

$(STAMP): requirements.txt pyproject.toml
	@python=$$(tools/find_python.sh $(PYTHON)) && \
	  $$python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed, found " + sys.version.split()[0] + ": run make PYTHON=/path/to/python3.x")' && \
	  { [ -x $(BIN)/python ] || $$python -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python $(PIP_INSTALL) -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(KERNEL_CONFIG): tools/ipython_kernel_config.py $(STAMP)
	@mkdir -p $(dir $@)
	cp $< $@

# build/ is setuptools' (a wheel built in place); it keeps files that were removed from resnet_lib/.
clean:
	rm -rf _build build
