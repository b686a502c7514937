# Shared by scripts/*.sh: install what authbench needs on a fresh Debian machine, only when missing,
# and answer --help without installing or building anything. Source it, then call
# `help_if_asked "$@" || exit 0` and `ensure_deps`.

log() { printf '==> %s\n' "$*" >&2; }

# `-h` / `--help` among the arguments: print the calling script's header comment (the block of `#`
# lines after the shebang) and return 1 so the caller exits 0. Nothing is installed or built.
help_if_asked() {
    local arg
    for arg in "$@"; do
        case "$arg" in
            -h | --help)
                sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
                return 1
                ;;
        esac
    done
    return 0
}

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
    command -v apt-get >/dev/null 2>&1 || {
        log "not a Debian machine: install redis-server, redis-cli, haproxy, procps, curl, python3, GNU time, a C compiler and Rust yourself"
        return 0
    }
    # Everything the scripts, the tests and the binary call:
    #   redis-server   the session store (authbench starts private ones on free loopback ports)
    #   redis-tools    redis-cli (scripts/cpu-ratio.sh reads Redis CPU with it; `redis-cli --cluster create`
    #                  builds the private Redis Cluster of the cluster tests)
    #   haproxy        the load balancer of multi-server runs
    #   procps         pgrep/ps/kill: the tests look for stray children with them (slim images lack it)
    #   curl           scripts/cpu-ratio.sh logs in with it
    #   python3, time  the wrk comparisons tabulate with python3 and time each tool with GNU time;
    #                  scripts/bench-summary.sh reads criterion's JSON with python3
    #   gcc, make      aws-lc-sys (the JWT/crypto backend) compiles C
    #   python3-flask, python3-jwt   tests/foreign/app.py: a service authbench did not write, that
    #                  the flow tests load and probe (run by /usr/bin/python3, where these install)
    local pkgs=(redis-server redis-tools haproxy procps curl python3 time gcc make python3-flask python3-jwt)
    [ "${AUTHBENCH_NEED_WRK:-0}" = 1 ] && pkgs+=(wrk)
    # nghttp2-client: h2load, the HTTP/2 peer of scripts/bench-transport.sh
    [ "${AUTHBENCH_NEED_H2LOAD:-0}" = 1 ] && pkgs+=(nghttp2-client)
    apt_install "${pkgs[@]}"
    if ! command -v cargo >/dev/null 2>&1; then
        log "cargo not found: install Rust with rustup (https://rustup.rs) and re-run"
        exit 2
    fi
    # Debian's packages start a system redis (6379) and haproxy where systemd runs; authbench never
    # uses either.
}
