#!/usr/bin/env bash
# Run the test suite as a Docker-like host would (issue #12, item 6), one variant at a time:
#
#   shm   /dev/shm is a 64 MiB tmpfs (Docker's default), in a mount namespace of its own
#         (unshare -m as root, unshare -rm as a user: a user namespace; where the host forbids both,
#         the variant says so and fails)
#   toml  a hostile paddledoctor.toml (GPUs required, 100 TiB of disk, strict, PD101 ignored, an
#         unwritable checkpoint folder) in a folder above a copy of the checkout, and above the
#         temporary folders the tests write in (TMPDIR)
#   path  the venv's bin (and any python or paddledoctor of the venv) not on PATH
#
#   tools/hermetic.sh [shm|toml|path|all] [PYTEST ARGS...]   (default: all, the whole suite)
#   tools/hermetic.sh all tests/checks tests/acceptance      # the variants on some tests
#
# PYTHON (default: .venv/bin/python of the checkout) is the interpreter with the test extra.
# Exit status: 0 when every variant chosen passed, else the first failing variant's.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
VARIANT="${1:-all}"
[ $# -gt 0 ] && shift
ARGS=("$@")
[ ${#ARGS[@]} -eq 0 ] && ARGS=(tests)
PYTEST=(-q -p no:randomly -p no:cacheprovider)

say() { printf '== hermetic %s: %s\n' "$1" "$2" >&2; }

run_shm() {
    local mount='mount -t tmpfs -o size=64m tmpfs /dev/shm && df -h /dev/shm | tail -1 >&2 && exec "$@"'
    local ns=()
    if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
        ns=(unshare -m)
    elif unshare -rm true 2>/dev/null; then
        ns=(unshare -rm)
    else
        say shm "this host forbids mount namespaces (unshare -m and -rm fail): /dev/shm cannot be made 64 MiB here"
        return 2
    fi
    say shm "${ns[*]}: a 64 MiB tmpfs on /dev/shm"
    (cd "$ROOT" && "${ns[@]}" sh -c "$mount" sh "$PY" -m pytest "${PYTEST[@]}" "${ARGS[@]}")
}

run_toml() {
    local top
    top="$(mktemp -d "${TMPDIR:-/tmp}/paddledoctor-hostile-XXXXXX")"
    cat >"$top/paddledoctor.toml" <<'EOF'
# hostile: every requirement a test could trip on
require-gpu = true
min-gpus = 8
min-free-gpu-mem = "80GiB"
min-free-disk = "100TiB"
checkpoint-dir = "/proc/paddledoctor-cannot-write-here"
strict = true
quick = true
bench = true
timeout = 1
ignore = ["PD101", "PD300"]
EOF
    mkdir -p "$top/checkout" "$top/tmp"
    (cd "$ROOT" && git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$top/checkout")
    # the variant proves something only if the doctor, left to search, finds the hostile file
    if ! (cd "$top/checkout/tests" && env -u PADDLEDOCTOR_CONFIG PYTHONPATH="$top/checkout" "$PY" -c \
          "from paddledoctor import config; import sys; sys.exit(str(config.find_config()) != '$top/paddledoctor.toml')"); then
        say toml "the hostile file is not found from the copy: the variant would prove nothing"
        rm -rf "$top"; return 2
    fi
    say toml "$top/paddledoctor.toml above $top/checkout and TMPDIR=$top/tmp"
    local rc=0
    (cd "$top/checkout" && env -u PADDLEDOCTOR_CONFIG TMPDIR="$top/tmp" PYTHONPATH="$top/checkout" \
        "$PY" -m pytest "${PYTEST[@]}" "${ARGS[@]}") || rc=$?
    rm -rf "$top"
    return $rc
}

run_path() {
    local bin clean
    bin="$(dirname "$PY")"
    clean="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$bin" | grep -v '/\.venv/bin$' | paste -sd: -)"
    say path "PATH=$clean (no $bin)"
    (cd "$ROOT" && env -u VIRTUAL_ENV PATH="$clean" "$PY" -m pytest "${PYTEST[@]}" "${ARGS[@]}")
}

case "$VARIANT" in
    shm|toml|path) "run_$VARIANT"; exit $? ;;
    all)
        status=0
        for v in shm toml path; do
            "run_$v"; rc=$?
            say "$v" "exit $rc"
            [ $rc -ne 0 ] && [ $status -eq 0 ] && status=$rc
        done
        exit $status ;;
    *) echo "usage: tools/hermetic.sh [shm|toml|path|all] [PYTEST ARGS...]" >&2; exit 2 ;;
esac
