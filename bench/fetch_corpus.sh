#!/usr/bin/env bash
# Fetches the real PDFs the benchmarks read (from Debian packages; nothing is committed):
#   bench/data/pgfplots.pdf  573 pages, chart-heavy  (texlive-pictures-doc, GPL-3+, ~230 MB .deb)
#   bench/data/R-exts.pdf    236 pages, text-heavy   (r-doc-pdf, R Core Team notice, ~10 MB .deb)
#   bench/data/refman.pdf   2415 pages, the R reference manual (same package): the long-document memory bench
#   bench/data/team-folder/ sample_data/ plus R-exts.pdf: a mixed folder where documents outweigh recordings
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p data/debs && cd data/debs
want() { [ -f "../$2" ] || { apt-get download "$1" >/dev/null && dpkg -x "$1"_*.deb x && cp "$(find x -name "$2" | head -1)" ..; }; }
want r-doc-pdf R-exts.pdf
want r-doc-pdf refman.pdf
want texlive-pictures-doc pgfplots.pdf
mkdir -p ../team-folder && cp ../../../sample_data/* ../R-exts.pdf ../team-folder/
ls -la .. | grep pdf
