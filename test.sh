#!/usr/bin/env bash
# Run the whole HyperData test suite: the venv of run.sh plus requirements-dev.txt, Debian's Chromium for
# the browser tests (installed with apt-get when /usr/bin/chromium is missing), then pytest.
#
#   ./test.sh                      # everything
#   ./test.sh tests/test_auth_pages.py -x -k login
#
# Environment: DATABASE_URL (PostgreSQL; the test database is test_<name>), REDIS_URL (a real Redis;
# without it the tests start an embedded Valkey server).
set -euo pipefail

# shellcheck source=run.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run.sh"

ensure_chromium() {
    [[ -x /usr/bin/chromium ]] && return 0
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        hd_log "/usr/bin/chromium is missing: install Debian's chromium package (as root: apt-get install chromium)."
        return 1
    fi
    hd_log "installing chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q chromium >/dev/null; then
        hd_log "apt-get install failed; running apt-get update and retrying"
        apt-get update -q >/dev/null
        apt-get install -y -q chromium >/dev/null
    fi
    [[ -x /usr/bin/chromium ]]
}

ensure_venv requirements-dev.txt
ensure_chromium
cd "${HD_ROOT}"
status=0
"${HD_VENV}/bin/python" -m pytest "$@" || status=$?
if [[ $status == 5 ]]; then
    hd_log "pytest collected no tests (exit code 5): that is a failure."
fi
exit "$status"
