#!/usr/bin/env bash
# Make sure the system programs the book needs are present, installing them where we can.
#
#   tools/ensure_system_packages.sh graphviz   # `dot`, used by keras.utils.plot_model
#
# On Debian/Ubuntu it uses apt-get (as root, or through password-less sudo); on macOS, Homebrew.
# Where neither works it stops with the exact command to run by hand.
set -euo pipefail

want=("$@")
[ ${#want[@]} -gt 0 ] || { echo "usage: $0 graphviz" >&2; exit 2; }

# The Debian/Homebrew package name -> the program that shows it is installed.
# (A case statement rather than an associative array: macOS ships bash 3.2.)
program_for() {
  case "$1" in
    graphviz) echo dot ;;
    *) return 1 ;;
  esac
}

for pkg in "${want[@]}"; do
  program_for "$pkg" >/dev/null || {
    echo "ensure_system_packages.sh: unknown package '$pkg' (known: graphviz)" >&2; exit 2; }
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
    echo "ERROR: ${missing[*]} missing and no root rights to install it. Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "then run make again." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif command -v brew >/dev/null 2>&1; then
  brew install "${missing[@]}"
else
  echo "ERROR: ${missing[*]} missing and neither apt-get nor Homebrew is available." >&2
  echo "Install Graphviz (https://graphviz.org/download/) so that 'dot' is on PATH, then run make again." >&2
  exit 1
fi

for pkg in "${missing[@]}"; do
  command -v "$(program_for "$pkg")" >/dev/null 2>&1 || {
    echo "ERROR: installed $pkg but '$(program_for "$pkg")' is still not on PATH." >&2; exit 1; }
done
