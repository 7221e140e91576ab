#!/bin/sh
# memory_svg_browser.sh MODELC MODEL [model options]
# The SVG of `modelc info --memory-svg` opens in a real browser: Debian's
# chromium, headless, screenshots it, and png_colours.py (PNG decoded by
# hand with zlib) finds the drawing there: many colours, and a good share
# of saturated pixels (the buffers' fills; a page that failed to render is
# white or grey).  Skipped (77) without chromium.
set -u
modelc=$1
shift
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$modelc" info "$@" --memory-svg "$tmp/plan.svg" > /dev/null || exit 1
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" \
  --screenshot="$tmp/plan.png" --window-size=1200,800 "file://$tmp/plan.svg" > "$tmp/chromium.log" 2>&1
[ -s "$tmp/plan.png" ] || { echo "FAIL: chromium wrote no screenshot"; tail -5 "$tmp/chromium.log"; exit 1; }
/usr/bin/python3 "$(dirname "$0")/png_colours.py" "$tmp/plan.png"
