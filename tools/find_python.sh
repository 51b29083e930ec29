#!/usr/bin/env bash
# Print the path of a working Python interpreter called NAME (e.g. python3.12), or fail saying how
# to get one.
#
#   tools/find_python.sh python3.12
#
# NAME is tried as it is first. Under pyenv, `python3.12` is a shim that only answers when 3.12 is
# the selected version; then every version pyenv has installed is tried too, so that
# `make test PYTHON=python3.12` works without switching pyenv's global version.
set -euo pipefail
name=${1:?usage: $0 NAME}
probe='import sys; print(sys.executable)'
if path=$("$name" -c "$probe" 2>/dev/null); then echo "$path"; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  versions=$(pyenv versions --bare 2>/dev/null | paste -sd: -)
  if [ -n "$versions" ] && path=$(PYENV_VERSION="$versions" "$name" -c "$probe" 2>/dev/null); then
    echo "$path"; exit 0
  fi
fi
echo "No working '$name' here. Install that Python (e.g. 'sudo apt-get install ${name}' on Debian/Ubuntu," \
     "'pyenv install ${name#python}', or from python.org), or choose another with make PYTHON=/path/to/python3.x." >&2
exit 1
