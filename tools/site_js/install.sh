#!/usr/bin/env bash
# Puts the JavaScript the static website needs into tools/site_js/static/, from which the site serves
# it itself instead of loading it from CDNs: pages work offline and behind school firewalls.
#
#   tools/site_js/install.sh      # run by `make book` and `make test`; needs npm (the npm registry once)
#
# What lands there (_config.yml points at it):
#   static/widgets/  require.js, a three-line require.js configuration, and the @jupyter-widgets
#                    html-manager bundle (embed-amd.js) with its fonts: myst-nb's nb_ipywidgets_js,
#                    added only to pages that hold widgets; and widget_accessibility.js (this folder's:
#                    accessible names and states that ipywidgets' views leave out);
#   static/mathjax/  MathJax 3 (tex-mml-chtml.js and the components it loads): Sphinx's mathjax_path.
# Versions are pinned by package-lock.json. Its devDependency axe-core stays in node_modules/ (never served):
# tests/test_browser.py injects it to check the pages against WCAG 2.1 AA.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
static="$here/static"
stamp="$static/.installed"

if [ -f "$stamp" ] && [ "$stamp" -nt "$here/package-lock.json" ] && [ "$stamp" -nt "$0" ] && [ "$stamp" -nt "$here/require-config.js" ] \
   && [ "$stamp" -nt "$here/widget_accessibility.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ERROR: npm is needed once to fetch the JavaScript the website serves (widgets, MathJax)." >&2
  echo "    On Debian/Ubuntu: sudo apt-get install -y npm   (or install Node.js >= 18 from https://nodejs.org)" >&2
  echo "then run make again." >&2
  exit 1
fi
echo "Fetching the website's JavaScript with npm (tools/site_js/package-lock.json)"
npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
rm -rf "$static"
# The bundle's modules look for their fonts beside their require.js address (module.uri):
# "@jupyter-widgets/html-manager/dist/libembed-amd" under <baseUrl>/@jupyter-widgets/html-manager/dist/,
# "@jupyter-widgets/html-manager" under <baseUrl>/@jupyter-widgets/ (a 404 for each font without this copy).
fonts="$static/widgets/@jupyter-widgets/html-manager/dist"
mkdir -p "$fonts" "$static/mathjax/output"

manager="$here/node_modules/@jupyter-widgets/html-manager/dist"
cp "$manager/embed-amd.js" "$static/widgets/"
for folder in "$fonts" "$static/widgets/@jupyter-widgets"; do
  find "$manager" -maxdepth 1 -type f \( -name '*.woff' -o -name '*.woff2' -o -name '*.ttf' -o -name '*.eot' -o -name '*.svg' \) \
    -exec cp {} "$folder/" \;
done
cp "$here/node_modules/requirejs/require.js" "$here/require-config.js" "$here/widget_accessibility.js" "$static/widgets/"

mathjax="$here/node_modules/mathjax/es5"
cp "$mathjax/tex-mml-chtml.js" "$static/mathjax/"
cp -r "$mathjax/a11y" "$mathjax/adaptors" "$mathjax/input" "$mathjax/sre" "$mathjax/ui" "$static/mathjax/"
cp -r "$mathjax/output/chtml" "$mathjax/output/chtml.js" "$static/mathjax/output/"

touch "$stamp"
echo "Website JavaScript ready in ${static#$PWD/}"
