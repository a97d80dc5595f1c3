#!/usr/bin/env bash
# Container suite: builds the image from the top-level Containerfile with podman, proves the
# dependency layer is re-used after a source change, runs the image on a loopback port and checks
# what a user of it sees (body, log line, health check, non-root, clean and quick stop), smoke-tests
# deploy/deployment.yaml with `podman kube play`, prints image size and build times, cleans up.
#
#   bash tests/container/container_test.sh [SOURCE_ROOT]
#   meson test -C build --suite container        (with -Dcontainer_tests=true)
#
# Needs root (exits 77, meson's SKIP, otherwise). Installs podman, runc, debootstrap, curl with
# apt-get when missing and makes the builder's base image with debootstrap when it is not there
# (tests/container/make_base_image.sh; kept between runs, like the dependency layers).
# Networking: build and containers use the host network; every request goes to 127.0.0.1.
# Every command has a time limit (timeout --foreground: it stays in this process group, so a
# test runner that ends the group ends the podman commands too).
#
# Environment:
#   CONTAINER_TEST_DEPS=debian|wraps  the Containerfile's DEPS (default debian: the wraps'
#                                     source hosts are unreachable on the project's machines)
#   CONTAINER_TEST_COLD=1             first build with --no-cache, to time a cold build
#   CONTAINER_TEST_KEEP=1             keep the image localhost/httpserver:container-test
#   CONTAINER_TEST_RUNTIME=runc       OCI runtime (crun fails on these machines)
# Kept between runs as a cache: the base image and localhost/httpserver-build-cache:deps-DEPS (the
# builder's toolchain and dependency layers). Everything else this test makes, it removes.
set -uo pipefail

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd) || { echo "FAIL: no source root"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
deps=${CONTAINER_TEST_DEPS:-debian}
runtime=${CONTAINER_TEST_RUNTIME:-runc}
tag=localhost/httpserver:container-test
tag2=localhost/httpserver:container-test-rebuilt
name=httpserver-ct-$$
stop_timeout=10            # podman stop -t; the server's own --shutdown-timeout defaults to 10 s
max_stop_ms=5000           # "well inside" the stop timeout
ulimits=(--ulimit nofile=4096:4096 --ulimit nproc=1000:1000)

passed=0 failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
info() { echo "INFO: $*"; }
section() { echo; echo "== $*"; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the container suite needs root (podman as root, apt-get, debootstrap)"
    exit 77
fi

work=$(mktemp -d /var/tmp/httpserver-container-test.XXXXXX)
containers=()
kube_yaml=""
remove_ids=()
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local c
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    if [ -n "$kube_yaml" ]; then podman kube down "$kube_yaml" >/dev/null 2>&1; fi
    podman rmi "$tag2" >/dev/null 2>&1
    [ "${CONTAINER_TEST_KEEP:-0}" = 1 ] || podman rmi "$tag" >/dev/null 2>&1
    # Intermediate images these builds made from `COPY . .` on (source-dependent, rebuilt on
    # every change anyway), newest first. The toolchain and dependency layers stay: the cache.
    local i
    for ((i = ${#remove_ids[@]} - 1; i >= 0; i--)); do
        podman rmi "${remove_ids[$i]}" >/dev/null 2>&1
    done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 143' TERM INT HUP

finish() {
    section "summary"
    [ -n "${summary:-}" ] && printf '%s' "$summary"
    # Not the bare "N passed, N failed" form: the CI reads that line from meson's own summary.
    echo "container suite: $passed checks passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
summary=""
add_summary() { summary+="  $(printf '%-36s' "$1") $2"$'\n'; }

# ---------------------------------------------------------------------------------------------
section "1. tools"
need=()
command -v podman >/dev/null || need+=(podman)
command -v "$runtime" >/dev/null || need+=("$runtime")
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
# catatonit: podman builds the pod's pause image from it for `podman kube play`.
[ -x /usr/libexec/podman/catatonit ] || [ -x /usr/bin/catatonit ] || need+=(catatonit)
if [ "${#need[@]}" -gt 0 ]; then
    info "installing ${need[*]}"
    if DEBIAN_FRONTEND=noninteractive timeout --foreground 300 apt-get update -qq &&
       DEBIAN_FRONTEND=noninteractive timeout --foreground 600 apt-get install -y -qq "${need[@]}" >"$work/apt.log" 2>&1; then
        pass "installed ${need[*]}"
    else
        tail -n 20 "$work/apt.log" 2>/dev/null
        fail "apt-get install ${need[*]}"
        finish
    fi
fi
info "$(podman --version), $("$runtime" --version | head -n 1)"

# Settings for `podman kube play`, which takes no --ulimit or --runtime flags: the default ulimits
# fail here (RLIMIT_NOFILE/NPROC above the hard limit: EPERM).
cat > "$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=1000:1000"]
[engine]
runtime = "$runtime"
EOF

# ---------------------------------------------------------------------------------------------
section "2. builder base image"
base=$(sed -n 's/^ARG BASE=\([^ ]*\).*/\1/p' "$src/Containerfile" | head -n 1)
base=${base:-docker.io/library/debian:trixie-slim}
t0=$(now_ms)
if bash "$here/make_base_image.sh" "$base"; then
    pass "base image $base"
else
    fail "base image $base"
    finish
fi
base_ms=$(( $(now_ms) - t0 ))

# ---------------------------------------------------------------------------------------------
# One line per build step of a podman build log: stage <TAB> cached|built|from <TAB> id <TAB> text
steps() {
    awk '
        function flush() { if (text != "") print stage "\t" state "\t" id "\t" text }
        /^(\[[0-9]+\/[0-9]+\] )?STEP [0-9]+\/[0-9]+: / {
            flush()
            stage = ($1 ~ /^\[/) ? $1 : "[1/1]"
            text = $0; sub(/^(\[[0-9]+\/[0-9]+\] )?STEP [0-9]+\/[0-9]+: /, "", text)
            state = (text ~ /^FROM /) ? "from" : "built"; id = ""; next
        }
        /^--> Using cache / { state = "cached"; next }
        /^--> [0-9a-f]+$/ { id = $2; next }
        END { flush() }' "$1"
}
step_state() {  # LOG ERE -> state of the first step whose text matches
    steps "$1" | awk -F'\t' -v re="$2" '$4 ~ re { print $2; exit }'
}
# Records the new intermediate images of the builder stage from `COPY . .` on, for cleanup. (The
# final stage's go with the image's tag: they are its untagged parents.)
collect_ids() {
    local id
    while read -r id; do remove_ids+=("$id"); done < <(steps "$1" | awk -F'\t' '
        $1 == "[1/2]" && $4 ~ /^COPY \. / { late = 1 }
        $1 == "[1/2]" && late && $2 == "built" && $3 != "" { print $3 }')
}
# The dependency layers are the build cache worth keeping (a cold build re-installs the toolchain
# and the dependencies). podman rmi also removes an image's untagged parents that have no other
# children, so removing this test's source-dependent layers would take them along: a tag on the
# dependency-download layer keeps it and everything below it.
cache_tag=localhost/httpserver-build-cache:deps-$deps
anchor_cache() {  # LOG
    local id old
    id=$(steps "$1" | awk -F'\t' '$1 == "[1/2]" && $4 ~ /subprojects download/ { print $3; exit }')
    [ -n "$id" ] || return 0
    old=$(podman image inspect --format '{{.Id}}' "$cache_tag" 2>/dev/null)
    podman tag "$id" "$cache_tag" >/dev/null 2>&1 || return 0
    # The cache it replaces (after a wrap, toolchain or base change, or a --no-cache build),
    # with its parents as far as no other image uses them.
    if [ -n "$old" ] && [ "${old:0:${#id}}" != "$id" ]; then
        podman rmi "$old" >/dev/null 2>&1 || true
    fi
}
build() {  # LOG TAG CONTEXT [extra podman build args...]
    local log=$1 t=$2 ctx=$3; shift 3
    timeout --foreground 1200 podman build --runtime "$runtime" --network host --pull=never --format docker \
        --build-arg DEPS="$deps" "$@" -f "$ctx/Containerfile" -t "$t" "$ctx" >"$log" 2>&1
}
show_build() {  # LOG: the steps with cache state, the unit-test summary, warnings
    steps "$1" | awk -F'\t' '{ t = $4; if (length(t) > 90) t = substr(t, 1, 87) "..."
                               printf "  %-5s %-6s %s\n", $1, $2, t }'
    grep -E '^(Ok|Fail|Unexpected Pass|Skipped|Timeout): ' "$1" | tr -s ' ' | sed 's/^/  unit tests: /'
    grep -E '^(WARNING|WARN\[)|warning: Using' "$1" | grep -v 'systemd' | sed 's/^/  /' | head -n 10
    grep -E '^-rwx.* /out/httpserver$' "$1" | awk '{ print "  binary: " $5 " bytes" }'
}

section "3a. build (DEPS=$deps)"
cold=()
[ "${CONTAINER_TEST_COLD:-0}" = 1 ] && cold=(--no-cache)
log1=$work/build1.log
t0=$(now_ms)
if build "$log1" "$tag" "$src" "${cold[@]}"; then
    build1_ms=$(( $(now_ms) - t0 ))
    anchor_cache "$log1"
    collect_ids "$log1"
    show_build "$log1"
    n_cached=$(steps "$log1" | awk -F'\t' '$2 == "cached"' | wc -l)
    n_steps=$(steps "$log1" | awk -F'\t' '$2 != "from"' | wc -l)
    pass "image built in $(secs "$build1_ms") ($n_cached of $n_steps steps from cache)"
    if [ "$n_cached" -eq 0 ]; then kind="cold (no cache)"; else kind="first ($n_cached/$n_steps steps cached)"; fi
    add_summary "build, $kind:" "$(secs "$build1_ms")"
else
    anchor_cache "$log1"
    collect_ids "$log1"
    tail -n 80 "$log1"
    fail "podman build (unit tests in the builder must pass; log above)"
    finish
fi

size=$(podman image inspect --format '{{.Size}}' "$tag")
gz=$(podman save --format docker-archive "$tag" 2>/dev/null | gzip -9 | wc -c)
info "image $tag: $size bytes uncompressed, $gz bytes as a gzip'd archive"
add_summary "image size (uncompressed):" "$size bytes ($(awk -v b="$size" 'BEGIN { printf "%.2f MB", b / 1e6 }'))"
add_summary "image size (docker-archive, gzip -9):" "$gz bytes"
inspect=$(podman image inspect "$tag")
if grep -q '"--healthcheck"' <<<"$inspect"; then pass "image has a HEALTHCHECK running httpserver --healthcheck"
else fail "image has no HEALTHCHECK (built without --format docker?)"; fi
if [ "$(podman image inspect --format '{{.Config.User}}' "$tag")" = "65532:65532" ]; then pass "image USER 65532:65532"
else fail "image USER is '$(podman image inspect --format '{{.Config.User}}' "$tag")'"; fi
if [ "$(podman image inspect --format '{{len .RootFS.Layers}}' "$tag")" = 1 ]; then pass "image has a single layer (FROM scratch + binary)"
else fail "image has $(podman image inspect --format '{{len .RootFS.Layers}}' "$tag") layers"; fi

# ---------------------------------------------------------------------------------------------
section "3b. rebuild after a source change (layer cache)"
copy=$work/tree
mkdir -p "$copy"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./subprojects/packagecache' -cf - . |
    tar -C "$copy" -xf -
victim=$copy/src/main.cpp
[ -f "$victim" ] || victim=$(find "$copy/src" -name '*.cpp' | sort | head -n 1)
printf '\n// container test %s-%s: this change must not invalidate the dependency layers\n' \
    "$(date +%s%N)" "$$" >> "$victim"
info "appended a comment to ${victim#"$copy"/}"
log2=$work/build2.log
t0=$(now_ms)
if build "$log2" "$tag2" "$copy"; then
    build2_ms=$(( $(now_ms) - t0 ))
    anchor_cache "$log2"
    collect_ids "$log2"
    show_build "$log2"
    pass "rebuilt in $(secs "$build2_ms")"
    add_summary "rebuild after a source change:" "$(secs "$build2_ms")"
    for check in "toolchain layer|^RUN apt-get update|cached" \
                 "DEPS layer|^RUN case |cached" \
                 "COPY of the wraps|^COPY subprojects/|cached" \
                 "dependency-download layer|subprojects download|cached" \
                 "compile layer|meson setup build|built"; do
        IFS='|' read -r what re want <<<"$check"
        got=$(step_state "$log2" "$re")
        if [ "$got" = "$want" ]; then
            pass "$what: $([ "$want" = cached ] && echo "Using cache" || echo "rebuilt")"
        else
            fail "$what: expected $want, was '${got:-no such step}'"
        fi
    done
else
    collect_ids "$log2"
    tail -n 60 "$log2"
    fail "podman build of the changed tree"
fi

# ---------------------------------------------------------------------------------------------
section "4. run"
free_port() {
    local i p
    for i in $(seq 1 50); do
        # Below the kernel's ephemeral range (32768-60999 by default): a port that another
        # program's outgoing connection holds cannot be told apart from a free one here.
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
        if command -v ss >/dev/null && ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then continue; fi
        echo "$p"; return 0
    done
    return 1
}
wait_http() {  # PORT CONTAINER: up to 20 s for a first answer, less if the container ends
    local i
    for i in $(seq 1 200); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
        case $(podman inspect --format '{{.State.Status}}' "$2" 2>/dev/null) in
            exited|stopped|dead|"") return 1 ;;
        esac
        sleep 0.1
    done
    return 1
}
show_container() {  # NAME: state and last log lines, after a failure
    echo "  $1: $(podman inspect --format '{{.State.Status}} exit={{.State.ExitCode}} {{.State.Error}}' "$1" 2>&1)"
    podman logs "$1" 2>&1 | grep -v 'systemd connection' | tail -n 10 | sed 's/^/  | /'
}
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
start_container() {  # NAME PORT
    containers+=("$1")
    timeout --foreground 60 podman --runtime "$runtime" run -d --pull=never --name "$1" --network host "${ulimits[@]}" \
        -e PORT="$2" "$tag" >/dev/null 2> >(grep -v 'systemd connection' >&2)
}

port=$(free_port) || { fail "no free loopback port"; finish; }
info "container $name on 127.0.0.1:$port (host network)"
if start_container "$name" "$port" && wait_http "$port" "$name"; then
    pass "container answers on 127.0.0.1:$port"
else
    show_container "$name"
    fail "container did not start or answer"
    finish
fi
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
rss_idle=$(status_field "$pid" VmRSS)

token=ct-$$-$RANDOM
body=$(curl -sS --max-time 2 "http://127.0.0.1:$port/$token")
if [ "$body" = "package main #14" ]; then pass "GET /$token -> '$body'"
else fail "GET /$token -> '$body' (want 'package main #14')"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/any/path?q=1")
if [ "$code" = 200 ]; then pass "GET /any/path?q=1 -> 200"; else fail "GET /any/path?q=1 -> $code"; fi

found=""
for i in $(seq 1 30); do
    if podman logs "$name" 2>&1 | grep -F "msg=\"uri: /$token\"" >/dev/null; then found=1; break; fi
    sleep 0.1
done
if [ -n "$found" ]; then pass "podman logs: $(podman logs "$name" 2>&1 | grep -F "uri: /$token" | head -n 1)"
else podman logs "$name" 2>&1 | tail -n 5; fail "no 'uri: /$token' line in podman logs"; fi

hc_out=$(timeout --foreground 30 podman healthcheck run "$name" 2>&1); hc_rc=$?
hc_out=$(grep -v 'systemd connection' <<<"$hc_out")
if [ "$hc_rc" -eq 0 ]; then pass "podman healthcheck run: healthy"
else fail "podman healthcheck run: exit $hc_rc ($hc_out)"; fi

uid=$(status_field "$pid" Uid); gid=$(status_field "$pid" Gid)
if [ "$uid" = 65532 ] && [ "$gid" = 65532 ]; then pass "server process (host pid $pid) runs as uid $uid gid $gid"
else fail "server process runs as uid '$uid' gid '$gid'"; fi

# A bounded keep-alive burst (one curl, URL globbing, one connection) to see memory under use.
t0=$(now_ms)
n_ok=$(curl -s --max-time 60 -w '%{http_code}\n' -o /dev/null "http://127.0.0.1:$port/burst/[1-2000]" | grep -c '^200$')
burst_ms=$(( $(now_ms) - t0 ))
if [ "$n_ok" -eq 2000 ]; then pass "2000 keep-alive requests from one curl: all 200 ($(secs "$burst_ms"))"
else fail "keep-alive burst: $n_ok of 2000 answered 200"; fi
rss_after=$(status_field "$pid" VmRSS); hwm=$(status_field "$pid" VmHWM)
info "server memory: VmRSS ${rss_idle} kB idle, ${rss_after} kB after the burst, peak ${hwm} kB"
add_summary "server RSS idle / after 2000 req / peak:" "${rss_idle} / ${rss_after} / ${hwm} kB"

closed=$(free_port)
hc_rc=0
t0=$(now_ms)
timeout --foreground 30 podman --runtime "$runtime" run --rm --pull=never --network host "${ulimits[@]}" -e PORT="$closed" "$tag" \
    --healthcheck >/dev/null 2>&1 || hc_rc=$?
hc_ms=$(( $(now_ms) - t0 ))
if [ "$hc_rc" -eq 1 ]; then pass "httpserver --healthcheck against a closed port exits 1 ($(secs "$hc_ms") incl. container start)"
else fail "httpserver --healthcheck against a closed port exits $hc_rc (want 1)"; fi

stop_check() {  # NAME LABEL
    local t0 ms rc
    t0=$(now_ms)
    timeout --foreground $((stop_timeout + 20)) podman stop -t "$stop_timeout" "$1" >/dev/null 2>&1
    ms=$(( $(now_ms) - t0 ))
    rc=$(podman inspect --format '{{.State.ExitCode}}' "$1")
    if [ "$rc" = 0 ] && [ "$ms" -lt "$max_stop_ms" ]; then
        pass "podman stop $2: exit code 0 after $ms ms (stop timeout ${stop_timeout} s)"
    else
        fail "podman stop $2: exit code $rc after $ms ms (want 0, under $max_stop_ms ms)"
    fi
    add_summary "podman stop $2:" "$ms ms, exit $rc"
}
stop_check "$name" "(no connection)"

# Again with an idle keep-alive connection open, as a load balancer keeps them.
name2=$name-idle
port2=$(free_port)
if start_container "$name2" "$port2" && wait_http "$port2" "$name2"; then
    if exec 3<>"/dev/tcp/127.0.0.1/$port2"; then
        printf 'GET /idle HTTP/1.1\r\nHost: localhost\r\n\r\n' >&3
        IFS= read -r -t 3 status_line <&3 || status_line=""
        info "idle keep-alive connection open (${status_line%$'\r'})"
        stop_check "$name2" "(idle keep-alive connection)"
        exec 3<&- 3>&-
    else
        fail "could not open a connection to 127.0.0.1:$port2"
    fi
else
    show_container "$name2"
    fail "second container did not start"
fi

# ---------------------------------------------------------------------------------------------
section "5. podman kube play deploy/deployment.yaml (host network)"
# The cluster manifest, adapted for one host: hostNetwork (no podman bridge here), this test's
# image and ports, one replica, no containerPort (podman 4.3 refuses port mappings with the host
# network) and so numeric ports for the probes, and a drain delay of 1 s instead of 5.
if [ -f "$src/deploy/deployment.yaml" ]; then
    kport=$(free_port)
    aport=$(free_port)
    kube_yaml=$work/kube.yaml
    sed -e 's|^  name: httpserver$|  name: httpserver-ct|' \
        -e 's|replicas: [0-9]*|replicas: 1|' \
        -e "s|image: .*|image: $tag|" \
        -e "s|value: \"8080\"|value: \"$kport\"|" \
        -e 's|^      terminationGracePeriodSeconds|      hostNetwork: true\n      terminationGracePeriodSeconds|' \
        -e '/^          ports:/,/^          # HTTP GETs/{/^          # HTTP GETs/!d}' \
        -e "s|port: http\$|port: $kport|" \
        -e "s|port: admin\$|port: $aport|" \
        -e "s|\":9090\"|\"127.0.0.1:$aport\"|" \
        -e 's|"--drain-delay", "[0-9a-z]*"|"--drain-delay", "1s"|' \
        "$src/deploy/deployment.yaml" > "$kube_yaml"
    # Left over by an interrupted run of this test (the name is this test's own).
    podman pod exists httpserver-ct-pod-0 2>/dev/null && podman pod rm -f httpserver-ct-pod-0 >/dev/null 2>&1
    if CONTAINERS_CONF=$work/containers.conf timeout --foreground 120 podman kube play "$kube_yaml" \
            >"$work/kube.log" 2> >(grep -v 'systemd connection' >&2); then
        pod=httpserver-ct-pod-0
        kc=$(podman ps -a --filter "pod=$pod" --format '{{.Names}}' | grep -v -- '-infra$' | head -n 1)
        if [ -n "$kc" ] && wait_http "$kport" "$kc" &&
           [ "$(curl -s --max-time 2 "http://127.0.0.1:$kport/kube")" = "package main #14" ]; then
            pass "kube play: pod $pod serves on 127.0.0.1:$kport"
        else
            [ -n "$kc" ] && show_container "$kc"
            podman ps -a --filter "pod=$pod" --format '  {{.Names}}: {{.Status}}'
            fail "kube play: pod $pod does not serve on 127.0.0.1:$kport"
        fi
        if [ -n "$kc" ]; then
            kpid=$(podman inspect --format '{{.State.Pid}}' "$kc")
            ro=$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$kc")
            if [ "$(status_field "$kpid" Uid)" = 65532 ] && [ "$ro" = true ]; then
                pass "kube play: runs as uid 65532 on a read-only root file system"
            else
                fail "kube play: uid $(status_field "$kpid" Uid), read-only root $ro"
            fi
            # podman 4.3 turns an exec liveness probe into a CMD-SHELL health check
            # (`/httpserver --healthcheck || exit 1`), which needs a /bin/sh that a FROM-scratch
            # image does not have: not checked here. A kubelet execs the command directly.
            info "kube play health check as podman sees it: $(podman inspect --format '{{json .Config.Healthcheck.Test}}' "$kc")"
            t0=$(now_ms)
            timeout --foreground 60 podman pod stop -t 15 "$pod" >/dev/null 2>&1
            ms=$(( $(now_ms) - t0 ))
            rc=$(podman inspect --format '{{.State.ExitCode}}' "$kc")
            if [ "$rc" = 0 ] && [ "$ms" -lt "$max_stop_ms" ]; then pass "kube play: pod stop: exit code 0 after $ms ms"
            else fail "kube play: pod stop: exit code $rc after $ms ms"; fi
        fi
    else
        cat "$work/kube.log"
        fail "podman kube play"
    fi
    CONTAINERS_CONF=$work/containers.conf timeout --foreground 60 podman kube down "$kube_yaml" >/dev/null 2>&1 &&
        kube_yaml=""
else
    info "no deploy/deployment.yaml: skipped"
fi

# ---------------------------------------------------------------------------------------------
add_summary "base image (debootstrap or cached):" "$(secs "$base_ms")"
finish
