#!/usr/bin/env bash
# Creates, or reuses when tests/sdk/requirements.txt has not changed, the virtualenv in which the
# SDK tests (tests/api/fake_llm_sdk.rs, otel_sdk.rs) run the official openai and anthropic Python
# SDKs and the OpenTelemetry SDK, and prints the path of its python on stdout; everything else
# goes to stderr. The venv is AUDITPULSE_SDK_VENV, or .venv-sdk at the repository root. Use it as
#   export AUDITPULSE_TEST_SDK_PYTHON="$(bash tests/sdk/setup.sh)"
# With arguments it makes another venv the same way: `setup.sh REQUIREMENTS MODULES VENV`
# installs REQUIREMENTS into VENV and checks that the comma-separated MODULES import (the
# LangChain example: examples/langchain_otlp/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${3:-${AUDITPULSE_SDK_VENV:-$here/../../.venv-sdk}}"
mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"
requirements="${1:-$here/requirements.txt}"
modules="${2:-openai,anthropic,opentelemetry.sdk}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi

# A python3 that can make a venv with pip in it; Debian's needs the python3-venv package.
python=python3
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    echo "installing python3-venv (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq python3-venv >&2
  fi
  if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    python=/usr/bin/python3
  fi
  "$python" -c 'import venv, ensurepip' >/dev/null 2>&1 || {
    echo "no python3 with venv and ensurepip: install python3-venv" >&2
    exit 1
  }
fi

echo "creating the SDK venv in $venv" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
"$venv/bin/python" -c "import ${modules}" >&2
echo "$want" >"$stamp"
echo "$venv/bin/python"
