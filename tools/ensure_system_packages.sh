#!/usr/bin/env bash
# Make sure the system programs the book needs are present, installing them where we can.
#
#   tools/ensure_system_packages.sh graphviz              # `dot`, used by keras.utils.plot_model
#   tools/ensure_system_packages.sh npm                   # fetches the widget JavaScript of the website
#   tools/ensure_system_packages.sh --optional chromium   # the browser test; a warning, not an error
#
# On Debian/Ubuntu it uses apt-get (as root, or through password-less sudo); on macOS, Homebrew.
# Where neither works it stops with the exact command to run by hand. With --optional, a package
# that cannot be installed is reported (with that command) and the script still succeeds: the
# test that needs it is then skipped with that reason.
set -euo pipefail

optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi
want=("$@")
[ ${#want[@]} -gt 0 ] || { echo "usage: $0 [--optional] graphviz|npm|chromium ..." >&2; exit 2; }

# The Debian/Homebrew package name -> the program that shows it is installed.
# (A case statement rather than an associative array: macOS ships bash 3.2.)
program_for() {
  case "$1" in
    graphviz) echo dot ;;
    npm) echo npm ;;
    chromium) echo chromium ;;
    *) return 1 ;;
  esac
}

# Stop with the message on stdin: an error, or with --optional a warning that lets set-up go on.
# (Builtins only: this must work where little more than bash is on PATH.)
fail() {
  local line
  if [ "$optional" = 1 ]; then
    echo "WARNING: could not install ${missing[*]} (optional: the tests that need it will be skipped)." >&2
    while IFS= read -r line; do echo "${line#ERROR: }" >&2; done
    exit 0
  fi
  while IFS= read -r line; do echo "$line" >&2; done
  exit 1
}

for pkg in "${want[@]}"; do
  program_for "$pkg" >/dev/null || {
    echo "ensure_system_packages.sh: unknown package '$pkg' (known: graphviz, npm, chromium)" >&2; exit 2; }
done

missing=()
for pkg in "${want[@]}"; do
  command -v "$(program_for "$pkg")" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    fail <<MESSAGE
ERROR: ${missing[*]} missing and no root rights to install it. Run:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
then run make again.
MESSAGE
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${SUDO[@]}" apt-get update -qq &&
         "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    fail <<MESSAGE
ERROR: apt-get could not install ${missing[*]}. Run by hand:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
then run make again.
MESSAGE
  fi
elif command -v brew >/dev/null 2>&1; then
  brew install "${missing[@]}" || fail <<MESSAGE
ERROR: Homebrew could not install ${missing[*]}. Run: brew install ${missing[*]}
MESSAGE
else
  fail <<MESSAGE
ERROR: ${missing[*]} missing and neither apt-get nor Homebrew is available.
Install it so that '$(program_for "${missing[0]}")' is on PATH (Graphviz: https://graphviz.org/download/;
npm: https://nodejs.org; Chromium: your system's package), then run make again.
MESSAGE
fi

for pkg in "${missing[@]}"; do
  command -v "$(program_for "$pkg")" >/dev/null 2>&1 || fail <<MESSAGE
ERROR: installed $pkg but '$(program_for "$pkg")' is still not on PATH.
MESSAGE
done
