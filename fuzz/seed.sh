#!/bin/sh
# Copies the OFX sample files (tests/fixtures/ofx/**/*.ofx) into the ofx_parse seed corpus.
# The corpus is generated at run time and never committed (fuzz/corpus is ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
corpus="$here/corpus/ofx_parse"
mkdir -p "$corpus"
find "$here/../tests/fixtures/ofx" -name '*.ofx' -type f | while read -r f; do
    name=$(echo "$f" | sed "s|^$here/../tests/fixtures/ofx/||; s|/|_|g")
    cp "$f" "$corpus/seed_$name"
done
echo "seeded $(ls "$corpus" | wc -l) files into $corpus"
