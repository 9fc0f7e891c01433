#!/usr/bin/env bash
# Make the README's pictures from a trained default run:
#   docs/images/curves.png                  learning curves (transformer plot)
#   docs/images/attention/cross-layer1.png  cross-attention heads (transformer attention)
#   docs/images/attention/index.html        the offline explorer of all layers and heads
#   docs/images/attention-page.png          that page rendered by headless Chromium
#   docs/images/attention-overview.png      its overview of every layer and head
# Needs: a run in checkpoints/numbers-en-de (the README's first command) and
# Debian's chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${RUN:-checkpoints/numbers-en-de}
SENTENCE=${SENTENCE:-four hundred twenty-one thousand seven}
go build -o /tmp/transformer-screens ./cmd/transformer
T=/tmp/transformer-screens

$T plot "$RUN" --out docs/images/curves
rm -f docs/images/curves.svg # the PNG is what the README shows
$T attention --checkpoint "$RUN" --kind cross --layer 1 --out docs/images/attention "$SENTENCE"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
	--window-size=1100,520 --screenshot="$PWD/docs/images/attention-page.png" \
	"file://$PWD/docs/images/attention/index.html#view=2&layer=1&head=all" 2>/dev/null
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
	--window-size=1100,560 --screenshot="$PWD/docs/images/attention-overview.png" \
	"file://$PWD/docs/images/attention/index.html#view=2&layer=1&head=overview" 2>/dev/null
echo "wrote docs/images/attention-page.png and docs/images/attention-overview.png"
