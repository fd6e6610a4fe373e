#!/usr/bin/env bash
# Run HyperData on this machine: creates .venv if missing, installs requirements.txt when it changed,
# then `python manage.py serve` (migrations, admin login, demo dataset, Celery worker, web server).
#
#   ./run.sh                          # http://127.0.0.1:8000/
#   ./run.sh --host 0.0.0.0 --port 9000
#
# test.sh sources this file for ensure_venv; nothing below the functions runs when sourced.
set -euo pipefail

HD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HD_VENV="${HD_ROOT}/.venv"

hd_log() { printf '[hyperdata] %s\n' "$*" >&2; }

# The interpreter that builds the venv: $PYTHON, else the first python3.1x >= 3.10 found.
hd_find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [[ -n "$candidate" ]] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    hd_log "Python 3.10 or newer is needed (set PYTHON=/path/to/python3.11)."
    return 1
}

hd_create_venv() {
    local python
    python="$(hd_find_python)"
    hd_log "creating ${HD_VENV} with ${python}"
    rm -rf "${HD_VENV}"
    if ! "$python" -m venv "${HD_VENV}" 2>/dev/null; then
        # Debian/Ubuntu ship venv's ensurepip separately.
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            local minor
            minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            hd_log "python venv support is missing; installing python${minor}-venv with apt-get"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${minor}-venv" python3-venv >/dev/null ||
                { apt-get update -q >/dev/null &&
                    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${minor}-venv" python3-venv >/dev/null; }
            rm -rf "${HD_VENV}"
            "$python" -m venv "${HD_VENV}"
        else
            hd_log "'$python -m venv' failed: install your distribution's python3-venv package."
            return 1
        fi
    fi
}

# ensure_venv FILE...: the venv exists and has every FILE installed; pip runs only when a file changed
# (a sha256 of the files' contents is kept in .venv/.stamp-<first file>).
ensure_venv() {
    if [[ ! -x "${HD_VENV}/bin/python" ]] || ! "${HD_VENV}/bin/python" -c 'import sys' 2>/dev/null; then
        hd_create_venv
    fi
    local stamp="${HD_VENV}/.stamp-$(basename "$1")" wanted file
    # requirements-dev.txt includes requirements.txt, so the stamp covers both.
    wanted="$(cd "${HD_ROOT}" && cat requirements.txt "$@" | sha256sum | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        return 0
    fi
    local args=()
    for file in "$@"; do args+=(-r "${HD_ROOT}/${file}"); done
    hd_log "installing ${*} into .venv"
    # From the root: pip reads paths inside requirement files (`-e ./client`) against the working directory.
    (cd "${HD_ROOT}" && "${HD_VENV}/bin/python" -m pip install --disable-pip-version-check -q "${args[@]}")
    echo "$wanted" >"$stamp"
}

hd_run_main() {
    ensure_venv requirements.txt
    cd "${HD_ROOT}"
    exec "${HD_VENV}/bin/python" manage.py serve "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    hd_run_main "$@"
fi
