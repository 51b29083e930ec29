# Kernel settings for the notebooks that `make book` executes; `make setup` copies this file to
# .venv/etc/ipython/, where IPython kernels started by the virtual environment's Python read it.
#
# TensorFlow's C++ start-up notices ("oneDNN custom operations are on", written before its
# logging is set up, so TF_CPP_MIN_LOG_LEVEL cannot silence them) go straight to the process's
# file descriptor 2. By default ipykernel captures that descriptor into the executing cell, so
# every chapter's import cell would carry them, and the -W build fails on the stderr they leave
# ("stderr was found in the cell outputs"). With this setting they go to the build's terminal
# log instead, where they remain visible. Python-level output to sys.stderr (warnings, tracebacks,
# progress bars) is still captured into the cell, so the -W build still fails on those.
c.IPKernelApp.capture_fd_output = False  # noqa: F821 (`c` is the config object IPython provides)
