#!/bin/sh
# Takes the README's screenshots from a live dashboard (atl-viz serve) over a mart built from
# real TLC months: docs/screenshots/README.md says which months and how the mart was built.
#   docs/screenshots/make.sh http://127.0.0.1:8080
# dashboard.png is the whole page; maps.png and tlc.png are its sections alone (the page's
# head and style kept), since headless Chromium does not scroll to an anchor before it shoots.
set -eu
url=${1:?the live dashboard URL, e.g. http://127.0.0.1:8080}
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shoot() { # <page> <png> <width,height>
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-dev-shm-usage \
        --user-data-dir="$work/profile" --screenshot="$2" --window-size="$3" "$1" 2>/dev/null
}
curl -fsS "$url/" -o "$work/page.html"
section() { # <id> <file>: the page with only <section id=...> in its <main>
    python3 - "$work/page.html" "$1" "$2" <<'PY'
import re, sys
page, sid, out = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], sys.argv[3]
head = page[: page.index("<body")]
start = page.index(f'<section class="maps" id="{sid}"' if sid == "maps" else f'<section id="{sid}"')
end = page.index("</section>", start) + len("</section>")
rest = page[end:]
# The TLC section's chart follows the section.
if sid == "tlc":
    m = re.match(r'\s*<div class="tlc-chart">.*?</figure>\s*</div>', rest, re.S)
    extra = m.group(0) if m else ""
else:
    extra = ""
open(out, "w", encoding="utf-8").write(f"{head}<body><main>{page[start:end]}{extra}</main></body></html>")
PY
}
shoot "$url/" "$out/dashboard.png" 1400,4000
section maps "$work/maps.html" && shoot "file://$work/maps.html" "$out/maps.png" 1400,820
section tlc "$work/tlc.html" && shoot "file://$work/tlc.html" "$out/tlc.png" 1400,1150
ls -l "$out"/dashboard.png "$out"/maps.png "$out"/tlc.png
