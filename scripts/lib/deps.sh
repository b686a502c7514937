# Shared by scripts/*.sh: install what authbench needs on a fresh Debian machine, only when missing.
# Source it, then call `ensure_deps`.

log() { printf '==> %s\n' "$*" >&2; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    log "installing ${missing[*]} (Debian packages)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_deps() {
    command -v apt-get >/dev/null 2>&1 || { log "not a Debian machine: install redis-server, a C compiler and Rust yourself"; return 0; }
    # redis-server: the session store and Redis faults; gcc/make: aws-lc-sys (the JWT/crypto backend).
    local pkgs=(redis-server gcc make)
    # The wrk comparisons also time each tool with GNU time and tabulate with python3.
    [ "${AUTHBENCH_NEED_WRK:-0}" = 1 ] && pkgs+=(wrk time python3)
    apt_install "${pkgs[@]}"
    if ! command -v cargo >/dev/null 2>&1; then
        log "cargo not found: install Rust with rustup (https://rustup.rs) and re-run"
        exit 2
    fi
    # Debian's package starts a system redis on 6379 where systemd runs; authbench never uses it.
}
