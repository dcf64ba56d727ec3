#!/usr/bin/env bash
# Extracts the 300 Tang poems (唐诗三百首; the poems are in the public domain) for the demo's corpus
# from Debian's fortunes-zh package, which carries them as a fortune file: each poem a 《title》 line, a
# 作者：author line and its verses, poems separated by "%" lines, titles and authors coloured with ANSI
# escapes. Writes demo/corpora/tang300.txt: the escapes removed, one blank line between poems.
#   sudo apt-get install fortunes-zh && bash scripts/extract-tang300.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source=${1:-/usr/share/games/fortunes/tang300}
[ -r "$source" ] || { echo "extract-tang300: $source not found; install Debian's fortunes-zh (apt-get install fortunes-zh)" >&2; exit 1; }
sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^%$//' "$source" | cat -s > demo/corpora/tang300.txt
echo "demo/corpora/tang300.txt: $(grep -c '^《' demo/corpora/tang300.txt) poems, $(wc -m < demo/corpora/tang300.txt) characters"
