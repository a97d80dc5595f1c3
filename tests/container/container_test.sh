#!/usr/bin/env bash
# Container suite: builds the image from the top-level Containerfile with podman on the default
# path (DEPS=wraps, from subprojects/packagecache, with the network cut), proves the layer cache
# (a source change re-uses the dependency layers; a wrap change re-runs the download, offline),
# builds the arm64 image and a manifest list of both, runs the image on a loopback port and checks
# what a user of it sees (body, log line, health check, non-root, 1,000 keep-alive connections
# under a 16 MiB memory cap, clean and quick stop), smoke-tests deploy/deployment.yaml with
# `podman kube play`, prints image sizes and build times, cleans up.
#
#   bash tests/container/container_test.sh [SOURCE_ROOT]
#   meson test -C build --suite container        (with -Dcontainer_tests=true)
#
# First finds out whether this environment can do it at all, and skips (exit 77, meson's SKIP)
# with one line saying what is missing when not: root, namespaces (unshare), device nodes for
# debootstrap (mknod; only while the base image is not cached), podman running a container. It
# fails only when containers can run and ours does not work. Without the wraps' tarballs (the
# wrap cache, subprojects/fill-packagecache.sh) it skips only the DEPS=wraps path and the arm64
# image, says so in a "SKIP (part):" line, and builds and tests the DEPS=debian image instead.
# Installs podman, runc, debootstrap, curl with apt-get when missing and makes the builder's base
# image with debootstrap when it is not there (tests/container/make_base_image.sh; kept between
# runs, like the dependency layers). Networking: builds use the host network only for the
# toolchain's apt-get (the `deps` stage); everything after it builds with --network none; the
# containers use the host network and every request goes to 127.0.0.1. Every command has a time
# limit (timeout --foreground: it stays in this process group, so a test runner that ends the
# group ends the podman commands too).
#
# Environment:
#   CONTAINER_TEST_DEBIAN=0           skip the DEPS=debian build (default 1: built and its unit
#                                     tests run, not run as a container)
#   CONTAINER_TEST_ARM64=0            skip the arm64 image and the manifest list
#   CONTAINER_TEST_COLD=1             build with --no-cache, to time a cold build
#   CONTAINER_TEST_KEEP=1             keep the image localhost/httpserver:container-test
#   CONTAINER_TEST_RUNTIME=runc       OCI runtime (crun fails on these machines)
# Kept between runs as a cache: the base image (and its tarball and debootstrap's packages in
# /var/cache/httpserver-ct) and localhost/httpserver-build-cache:deps-DEPS-ARCH (the builder's
# toolchain and dependency layers). Everything else this test makes, it removes.
set -uo pipefail

src=$(cd "${1:-$(dirname "$0")/../..}" && pwd) || { echo "FAIL: no source root"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
runtime=${CONTAINER_TEST_RUNTIME:-runc}
tag=localhost/httpserver:container-test
tag_arm64=localhost/httpserver:container-test-arm64
tag_debian=localhost/httpserver:container-test-debian
manifest=localhost/httpserver:container-test-multiarch
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
skip() { echo "SKIP: $*"; exit 77; }

if [ "$(id -u)" -ne 0 ]; then
    skip "the container suite needs root (podman as root, apt-get, debootstrap)"
fi

work=$(mktemp -d /var/tmp/httpserver-container-test.XXXXXX)
podman images -aq --no-trunc 2>/dev/null | sort > "$work/images-before"
containers=()
kube_yaml=""
remove_ids=()
arm64_deps_pid=""
# PID and every process below it, children first (a background build: its podman).
tree_pids() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
    echo "$1"
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local c i
    if [ -n "$arm64_deps_pid" ] && kill -0 "$arm64_deps_pid" 2>/dev/null; then
        kill $(tree_pids "$arm64_deps_pid") 2>/dev/null
        wait "$arm64_deps_pid" 2>/dev/null
    fi
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    if [ -n "$kube_yaml" ]; then podman kube down "$kube_yaml" >/dev/null 2>&1; fi
    podman manifest rm "$manifest" >/dev/null 2>&1
    podman rmi "$tag_arm64" "$tag_debian" >/dev/null 2>&1
    [ "${CONTAINER_TEST_KEEP:-0}" = 1 ] || podman rmi "$tag" >/dev/null 2>&1
    # Intermediate images these builds made after the dependency layers (the builder stage's
    # COPY . . and compile, a changed wrap's layers), newest first. The toolchain and dependency
    # layers stay: the cache.
    for ((i = ${#remove_ids[@]} - 1; i >= 0; i--)); do
        podman rmi "${remove_ids[$i]}" >/dev/null 2>&1
    done
    # What the build logs did not name (podman interleaves the output of stages built side by
    # side, so a step's image id can print under another step): untagged images this run made
    # from our Containerfile, leaves first (podman rmi takes their untagged parents along and
    # refuses an image that still has children: the cache anchors' chains stay).
    local id
    for id in $(podman images -aq --no-trunc 2>/dev/null | sort | comm -13 "$work/images-before" -); do
        [ "$(podman image inspect --format '{{len .RepoTags}}' "$id" 2>/dev/null)" = 0 ] || continue
        podman history --no-trunc --format '{{.CreatedBy}}' "$id" 2>/dev/null | head -n 1 |
            grep -qE 'httpserver|deps-download' && podman rmi "$id" >/dev/null 2>&1
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
add_summary() { summary+="  $(printf '%-40s' "$1") $2"$'\n'; }

# ---------------------------------------------------------------------------------------------
section "1. tools and what this environment allows"
need=()
command -v podman >/dev/null || need+=(podman)
command -v "$runtime" >/dev/null || need+=("$runtime")
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
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
        skip "podman, $runtime and debootstrap are not installed and apt-get cannot install them (${need[*]})"
    fi
fi
info "$(podman --version), $("$runtime" --version | head -n 1)"
# Containers need new mount and PID namespaces: an unprivileged container (a CI runner without
# CAP_SYS_ADMIN) cannot make them.
if ! err=$(unshare --mount --pid --fork true 2>&1); then
    skip "cannot create namespaces here (unshare: ${err##*: }): run the container suite on a VM or a privileged runner"
fi

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
suite=trixie
if ! podman image exists "$base" && [ ! -s "/var/cache/httpserver-ct/base-$suite.tar" ]; then
    # debootstrap makes /dev's nodes: without CAP_MKNOD (an unprivileged container) it fails late.
    if ! err=$(mknod "$work/null" c 1 3 2>&1); then
        skip "debootstrap cannot make device nodes here (${err##*: }) and no base image is cached: run on a VM or a privileged runner, or import one (tests/container/make_base_image.sh)"
    fi
    rm -f "$work/null"
fi
t0=$(now_ms)
if bash "$here/make_base_image.sh" "$base" "$suite"; then
    pass "base image $base"
else
    fail "base image $base"
    finish
fi
base_ms=$(( $(now_ms) - t0 ))
if ! err=$(timeout --foreground 120 podman --runtime "$runtime" run --rm --pull=never --network none "${ulimits[@]}" \
        "$base" true 2>&1); then
    skip "podman cannot run a container here ($(grep -v systemd <<<"$err" | tail -n 1)): run on a VM or a privileged runner"
fi
pass "podman runs a container (the base image)"

# ---------------------------------------------------------------------------------------------
# One line per build step of a podman build log: stage <TAB> cached|built|from <TAB> id <TAB> text
# (stage: the name after AS in the stage's FROM, "final" for the unnamed last stage; found by
# the "[k/N]" prefix, as podman interleaves the output of stages it builds side by side).
steps() {
    awk '
        function flush() { if (text != "") print stage "\t" state "\t" id "\t" text }
        /^(\[[0-9]+\/[0-9]+\] )?STEP [0-9]+\/[0-9]+: / {
            flush()
            key = ($1 ~ /^\[/) ? $1 : "[1/1]"
            text = $0; sub(/^(\[[0-9]+\/[0-9]+\] )?STEP [0-9]+\/[0-9]+: /, "", text)
            if (text ~ /^FROM /) {
                state = "from"
                name[key] = (match(text, / [Aa][Ss] [A-Za-z0-9_.-]+$/)) ? substr(text, RSTART + 4) : "final"
            } else state = "built"
            stage = name[key]; id = ""; next
        }
        /^--> Using cache / { state = "cached"; next }
        /^--> [0-9a-f]+$/ { id = $2; next }
        END { flush() }' "$1"
}
step_state() {  # LOG ERE -> state of the first step whose text matches
    steps "$1" | awk -F'\t' -v re="$2" '$4 ~ re { print $2; exit }'
}
# Records, for cleanup, the images a build made after the cached dependency layers: the builder
# stage's (COPY . . on) and, after a wrap change, the deps stage's from COPY subprojects/ on. (The
# final stage's go with the image's tag: they are its untagged parents.)
collect_ids() {
    local id
    while read -r id; do remove_ids+=("$id"); done < <(steps "$1" | awk -F'\t' '
        $1 == "deps" && $4 ~ /^COPY subprojects\// { late = 1 }
        ($1 == "builder" || ($1 == "deps" && late)) && $2 == "built" && $3 != "" { print $3 }')
}
# The deps stage (toolchain, DEPS packages, wrap download) is the build cache worth keeping: a
# tag on its last layer keeps it and everything below it, since podman rmi also removes an
# image's untagged parents that have no other children. A new one replaces the old (after a wrap,
# toolchain or base change, or a --no-cache build), which goes with its parents as far as no
# other image uses them.
anchor_cache() {  # DEPS ARCH LOG
    local cache_tag=localhost/httpserver-build-cache:deps-$1-$2 id old
    id=$(steps "$3" | awk -F'\t' '$1 == "deps" && $4 ~ /subprojects download/ { print $3; exit }')
    [ -n "$id" ] || return 0
    old=$(podman image inspect --format '{{.Id}}' "$cache_tag" 2>/dev/null)
    podman tag "$id" "$cache_tag" >/dev/null 2>&1 || return 0
    if [ -n "$old" ] && [ "${old:0:${#id}}" != "$id" ]; then
        podman rmi "$old" >/dev/null 2>&1 || true
    fi
}
buildplatform=linux/$(podman info --format '{{.Host.Arch}}' 2>/dev/null || echo amd64)
build() {  # LOG TAG CONTEXT NETWORK [extra podman build args...]
    local log=$1 t=$2 ctx=$3 net=$4; shift 4
    local tagopt=()
    [ -n "$t" ] && tagopt=(-t "$t")
    timeout --foreground 1500 podman build --runtime "$runtime" --network "$net" --pull=never --format docker \
        --force-rm --build-arg BUILDPLATFORM="$buildplatform" "$@" -f "$ctx/Containerfile" "${tagopt[@]}" "$ctx" \
        >"$log" 2>&1
}
show_build() {  # LOG: the steps with cache state, the unit-test summary, warnings
    steps "$1" | awk -F'\t' '{ t = $4; if (length(t) > 80) t = substr(t, 1, 77) "..."
                               printf "  %-8s %-6s %s\n", $1, $2, t }'
    grep -E '^(Ok|Fail|Unexpected Pass|Skipped|Timeout): ' "$1" | tr -s ' ' | sed 's/^/  unit tests: /' | paste -sd' '
    grep -E '^(WARNING|WARN\[)|warning: Using' "$1" | grep -v 'systemd' | sed 's/^/  /' | head -n 10
    grep -E '^-rwx.* /out/httpserver$' "$1" | awk '{ print "  binary: " $5 " bytes" }'
}
cold=()
[ "${CONTAINER_TEST_COLD:-0}" = 1 ] && cold=(--no-cache)

# A copy of the tree with the wraps' tarballs in subprojects/packagecache (filled from the wrap
# cache) and one source file changed: the change must not invalidate the dependency layers.
copy=$work/tree
mkdir -p "$copy"
tar -C "$src" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$copy" -xf -
# Without the wraps' tarballs the default path (DEPS=wraps, and the arm64 image built from it)
# cannot be built offline: it is skipped and named as such, and the image under test is the
# DEPS=debian one, built from Debian's packages, which needs no tarball.
wraps=1
if bash "$copy/subprojects/fill-packagecache.sh" >"$work/fill.log" 2>&1; then
    pass "subprojects/packagecache filled ($(ls "$copy/subprojects/packagecache" | paste -sd' '))"
else
    wraps=0
    wraps_why=$(grep -m 1 -E 'not in|sha256|no wrap cache' "$work/fill.log")
    echo "SKIP (part): the DEPS=wraps path and the arm64 image: the wraps' tarballs are not in the wrap cache ($wraps_why); the image is built with DEPS=debian instead"
    add_summary "skipped:" "DEPS=wraps path and arm64 image (no wrap tarballs)"
fi

# What a user of the image sees before running it: its size, health check, user and layers.
check_image() {  # TAG
    local size gz inspect
    size=$(podman image inspect --format '{{.Size}}' "$1")
    gz=$(podman save --format docker-archive "$1" 2>/dev/null | gzip -9 | wc -c)
    info "image $1: $size bytes uncompressed, $gz bytes as a gzip'd archive"
    add_summary "image size amd64 (uncompressed):" "$size bytes ($(awk -v b="$size" 'BEGIN { printf "%.2f MB", b / 1e6 }'))"
    add_summary "image size amd64 (docker-archive, gzip -9):" "$gz bytes"
    inspect=$(podman image inspect "$1")
    if grep -q '"--healthcheck"' <<<"$inspect"; then pass "image has a HEALTHCHECK running httpserver --healthcheck"
    else fail "image has no HEALTHCHECK (built without --format docker?)"; fi
    if [ "$(podman image inspect --format '{{.Config.User}}' "$1")" = "65532:65532" ]; then pass "image USER 65532:65532"
    else fail "image USER is '$(podman image inspect --format '{{.Config.User}}' "$1")'"; fi
    if [ "$(podman image inspect --format '{{len .RootFS.Layers}}' "$1")" = 1 ]; then pass "image has a single layer (FROM scratch + binary)"
    else fail "image has $(podman image inspect --format '{{len .RootFS.Layers}}' "$1") layers"; fi
}
if [ "$wraps" = 1 ]; then  # sections 3a-3e: the DEPS=wraps path
# ---------------------------------------------------------------------------------------------
section "3a. the dependency layers (DEPS=wraps, amd64): toolchain with the network, wraps without"
# The toolchain comes from a Debian mirror; built (or found in the cache) with the host network,
# then the whole build again with the network cut: the wrap download must find everything in
# subprojects/packagecache.
# The arm64 deps stage (its cross toolchain and qemu-user: mostly downloading and unpacking) is
# built meanwhile, in the background: on a cold machine the two overlap. It starts once the
# amd64 build is past its ARG steps: two builds that make the same (empty) ARG layers at once
# make two chains, and a later build may find the other architecture's chain and miss its own.
log_a0=$work/deps-arm64.log log0=$work/deps.log
t0=$(now_ms)
build "$log0" "" "$src" host --target deps "${cold[@]}" --build-arg DEPS=wraps &
amd64_deps_pid=$!
if [ "${CONTAINER_TEST_ARM64:-1}" = 1 ]; then
    for _ in $(seq 1 600); do
        grep -q '^STEP 4/' "$log0" 2>/dev/null && break
        kill -0 "$amd64_deps_pid" 2>/dev/null || break
        sleep 0.1
    done
    t_a0=$(now_ms)
    { build "$log_a0" "" "$src" host --target deps --platform linux/arm64 "${cold[@]}" --build-arg DEPS=wraps
      echo "$? $(( $(now_ms) - t_a0 ))" > "$work/deps-arm64.rc"; } &
    arm64_deps_pid=$!
fi
if wait "$amd64_deps_pid"; then
    deps_ms=$(( $(now_ms) - t0 ))
    anchor_cache wraps amd64 "$log0"
    show_build "$log0"
    n_cached=$(steps "$log0" | awk -F'\t' '$2 == "cached"' | wc -l)
    pass "deps stage in $(secs "$deps_ms") ($n_cached steps from cache)"
    add_summary "deps stage, wraps amd64 ($n_cached cached):" "$(secs "$deps_ms")"
else
    tail -n 60 "$log0"
    fail "podman build --target deps (the toolchain's apt-get needs a Debian mirror)"
    finish
fi

section "3b. the image (DEPS=wraps, amd64), a source file changed, --network none"
victim=$copy/src/bin/main.cpp
[ -f "$victim" ] || victim=$(find "$copy/src" -name '*.cpp' | sort | head -n 1)
printf '\n// container test %s-%s: this change must not invalidate the dependency layers\n' \
    "$(date +%s%N)" "$$" >> "$victim"
info "appended a comment to ${victim#"$copy"/}"
log1=$work/build1.log
t0=$(now_ms)
if build "$log1" "$tag" "$copy" none --build-arg DEPS=wraps; then
    build1_ms=$(( $(now_ms) - t0 ))
    collect_ids "$log1"
    show_build "$log1"
    pass "image built offline in $(secs "$build1_ms")"
    add_summary "build after a source change, wraps amd64:" "$(secs "$build1_ms") (network none)"
    for check in "toolchain layer|^RUN set -e; +native=|cached" \
                 "DEPS layer|^RUN set -e; read -r arch triplet qemu < /etc/httpserver-target; +case|cached" \
                 "COPY of the wraps|^COPY subprojects/|cached" \
                 "dependency-download layer|subprojects download|cached" \
                 "compile layer|meson setup build|built"; do
        IFS='|' read -r what re want <<<"$check"
        got=$(step_state "$log1" "$re")
        if [ "$got" = "$want" ]; then
            pass "$what: $([ "$want" = cached ] && echo "Using cache" || echo "rebuilt")"
        else
            fail "$what: expected $want, was '${got:-no such step}'"
        fi
    done
    if grep -q 'Using .* source from cache\|Downloading .* source from' "$log1"; then
        info "wrap sources: $(grep -o 'Downloading [^ ]* source\|Using [^ ]* source from cache' "$log1" | sort -u | paste -sd, )"
    fi
else
    collect_ids "$log1"
    tail -n 80 "$log1"
    fail "podman build --network none of the default path (unit tests in the builder must pass; log above)"
    finish
fi

check_image "$tag"

# ---------------------------------------------------------------------------------------------
if [ "${CONTAINER_TEST_ARM64:-1}" = 1 ]; then
    section "3c. the arm64 image (cross-compiled in an amd64 builder, unit tests under qemu-user)"
    log_a=$work/build-arm64.log
    # (Polled, not `wait`ed: bash may have reaped it already while waiting for the amd64 one.)
    while kill -0 "$arm64_deps_pid" 2>/dev/null; do sleep 1; done
    a0_rc=1 a0_ms=0
    [ -s "$work/deps-arm64.rc" ] && read -r a0_rc a0_ms < "$work/deps-arm64.rc"
    t0=$(now_ms)
    if [ "$a0_rc" = 0 ] &&
       { anchor_cache wraps arm64 "$log_a0"
         build "$log_a" "$tag_arm64" "$copy" none --platform linux/arm64 --build-arg DEPS=wraps; }; then
        a_ms=$(( $(now_ms) - t0 ))
        collect_ids "$log_a"
        show_build "$log_a"
        arch=$(podman image inspect --format '{{.Architecture}}' "$tag_arm64")
        machine=$(grep -o '^httpserver: .*' "$log_a" | tail -n 1)
        if [ "$arch" = arm64 ] && grep -q AArch64 <<<"$machine"; then
            pass "arm64 image: architecture $arch, $machine; deps stage $(secs "$a0_ms"), image $(secs "$a_ms") (network none)"
        else
            fail "arm64 image: architecture '$arch', '$machine'"
        fi
        size_a=$(podman image inspect --format '{{.Size}}' "$tag_arm64")
        add_summary "deps stage, wraps arm64 (beside amd64):" "$(secs "$a0_ms")"
        add_summary "build after a source change, wraps arm64:" "$(secs "$a_ms") (network none)"
        add_summary "image size arm64 (uncompressed):" "$size_a bytes ($(awk -v b="$size_a" 'BEGIN { printf "%.2f MB", b / 1e6 }'))"
        # It serves where binfmt_misc runs arm64 programs through qemu-user (as a Raspberry Pi or an
        # arm64 server runs it natively).
        if grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
            aport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
            containers+=("$name-arm64")
            if timeout --foreground 60 podman --runtime "$runtime" run -d --pull=never --name "$name-arm64" --network host \
                   "${ulimits[@]}" -e PORT="$aport" "$tag_arm64" >/dev/null 2>&1; then
                abody=""
                for _ in $(seq 1 100); do
                    abody=$(curl -s --max-time 1 "http://127.0.0.1:$aport/arm64") && [ -n "$abody" ] && break
                    sleep 0.1
                done
                if [ "$abody" = "package main #14" ]; then pass "arm64 image serves under qemu-user (binfmt_misc): '$abody'"
                else fail "arm64 image under qemu-user answered '$abody'"; fi
                podman rm -f -t 0 "$name-arm64" >/dev/null 2>&1
            else
                fail "arm64 image does not start under qemu-user (binfmt_misc)"
            fi
        else
            info "arm64 image not run: no binfmt_misc entry enabled for qemu-aarch64 on this machine"
        fi

        section "3d. one name for both: podman manifest (amd64 + arm64)"
        podman manifest rm "$manifest" >/dev/null 2>&1
        if podman manifest create "$manifest" >/dev/null &&
           podman manifest add "$manifest" "containers-storage:$tag" >/dev/null &&
           podman manifest add "$manifest" "containers-storage:$tag_arm64" >/dev/null; then
            archs=$(podman manifest inspect "$manifest" | python3 -c 'import json, sys; print(" ".join(sorted(m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"])))')
            if [ "$archs" = "amd64 arm64" ]; then pass "manifest $manifest lists: $archs"
            else fail "manifest $manifest lists '$archs' (want amd64 arm64)"; fi
        else
            fail "podman manifest create/add"
        fi
    else
        collect_ids "$log_a"
        tail -n 80 "$log_a0" "$log_a" 2>/dev/null
        fail "podman build --platform linux/arm64"
    fi
fi

# ---------------------------------------------------------------------------------------------
section "3e. a wrap changed: the download layer re-runs, offline"
printf '\n# container test %s: a changed wrap\n' "$(date +%s%N)" >> "$copy/subprojects/llhttp.wrap"
log2=$work/build-wrap.log
t0=$(now_ms)
if build "$log2" "" "$copy" none --target deps --build-arg DEPS=wraps; then
    collect_ids "$log2"
    show_build "$log2"
    for check in "toolchain layer|^RUN set -e; +native=|cached" \
                 "COPY of the wraps|^COPY subprojects/|built" \
                 "dependency-download layer|subprojects download|built"; do
        IFS='|' read -r what re want <<<"$check"
        got=$(step_state "$log2" "$re")
        if [ "$got" = "$want" ]; then pass "$what: $([ "$want" = cached ] && echo "Using cache" || echo "re-run, network none")"
        else fail "$what: expected $want, was '${got:-no such step}'"; fi
    done
    add_summary "deps stage after a wrap change:" "$(secs $(( $(now_ms) - t0 ))) (network none)"
else
    collect_ids "$log2"
    tail -n 40 "$log2"
    fail "the wrap download with the network cut (a tarball missing from packagecache?)"
fi
# And without one tarball it must fail: nothing is downloaded behind our back.
missing=$(ls "$copy/subprojects/packagecache" | head -n 1)
rm -f "$copy/subprojects/packagecache/$missing"
log3=$work/build-missing.log
if build "$log3" "" "$copy" none --target deps --build-arg DEPS=wraps; then
    collect_ids "$log3"
    fail "the wrap layer succeeded offline without $missing in packagecache"
else
    collect_ids "$log3"
    pass "without $missing in packagecache the offline wrap download fails: $(grep -m 1 -oE '^(WARNING: failed to download with error: .{0,50}|wrap subprojects/[^ ]+: subprojects/[^ ]+ was not fetched)' "$log3")"
fi

# ---------------------------------------------------------------------------------------------
fi  # wraps

# Without the wraps, the DEPS=debian image is the one the run and stop checks below use.
debian_tag=$tag_debian
[ "$wraps" = 1 ] || debian_tag=$tag
if [ "${CONTAINER_TEST_DEBIAN:-1}" = 1 ] || [ "$wraps" = 0 ]; then
    section "3f. DEPS=debian (amd64): the libraries from Debian's packages"
    # The same tree, its wrap and packagecache put back.
    tar -C "$src" -cf - subprojects/llhttp.wrap | tar -C "$copy" -xf -
    bash "$copy/subprojects/fill-packagecache.sh" >/dev/null 2>&1
    log4=$work/build-debian.log
    t0=$(now_ms)
    if build "$log4" "" "$copy" host --target deps "${cold[@]}" --build-arg DEPS=debian &&
       { anchor_cache debian amd64 "$log4"; d0_ms=$(( $(now_ms) - t0 )); t0=$(now_ms)
         build "$log4" "$debian_tag" "$copy" none --build-arg DEPS=debian; }; then
        d_ms=$(( $(now_ms) - t0 ))
        collect_ids "$log4"
        show_build "$log4"
        pass "DEPS=debian image: deps stage $(secs "$d0_ms"), image $(secs "$d_ms") (network none), $(podman image inspect --format '{{.Size}}' "$debian_tag") bytes"
        add_summary "deps stage, debian amd64:" "$(secs "$d0_ms")"
        add_summary "build after a source change, debian amd64:" "$(secs "$d_ms") (network none)"
    else
        collect_ids "$log4"
        tail -n 60 "$log4"
        fail "podman build --build-arg DEPS=debian"
        [ "$wraps" = 1 ] || finish
    fi
    [ "$wraps" = 1 ] || check_image "$tag"
fi

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

# Under a hard memory cap, as on a small board or in a pod with a 16Mi limit: 1,000 keep-alive
# connections that each made one request and stay open, all answered, the container not killed.
# The peak is the cgroup's own (v1: memory.max_usage_in_bytes; v2: memory.peak, or the highest
# memory.current seen): it charges the server's pages and the kernel's socket memory.
capped=$name-16m
cport=$(free_port)
containers+=("$capped")
if timeout --foreground 60 podman --runtime "$runtime" run -d --pull=never --name "$capped" --network host --memory 16m \
        "${ulimits[@]}" -e PORT="$cport" "$tag" >/dev/null 2> >(grep -v 'systemd connection' >&2) &&
   wait_http "$cport" "$capped"; then
    cpid=$(podman inspect --format '{{.State.Pid}}' "$capped")
    cg_v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$cpid/cgroup")
    cg_v2=$(awk -F: '$1 == "0" { print $3 }' "/proc/$cpid/cgroup")
    if [ -n "$cg_v1" ] && [ -r "/sys/fs/cgroup/memory$cg_v1/memory.limit_in_bytes" ]; then
        cgdir=/sys/fs/cgroup/memory$cg_v1 limit_file=memory.limit_in_bytes peak_file=memory.max_usage_in_bytes cur_file=memory.usage_in_bytes
    else
        cgdir=/sys/fs/cgroup$cg_v2 limit_file=memory.max peak_file=memory.peak cur_file=memory.current
    fi
    limit=$(cat "$cgdir/$limit_file" 2>/dev/null)
    # memory.current sampled while the connections are made, for hosts with no peak file.
    ( high=0; for _ in $(seq 1 600); do
        c=$(cat "$cgdir/$cur_file" 2>/dev/null) || break
        [ "${c:-0}" -gt "$high" ] && high=$c && echo "$high" > "$work/current-high"
        sleep 0.1
      done ) &
    sampler=$!
    t0=$(now_ms)
    timeout --foreground 150 python3 "$src/bench/footprint/conns.py" --port "$cport" --pid "$cpid" --count 1000 \
        --deadline 120 > "$work/capped.mem" 2> "$work/capped.err"
    conns_rc=$?
    conns_ms=$(( $(now_ms) - t0 ))
    peak=$(cat "$cgdir/$peak_file" 2>/dev/null)
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    high=$(cat "$work/current-high" 2>/dev/null)
    [ -n "$peak" ] || peak=$high
    opened=$(sed -n 's/^connections=//p' "$work/capped.mem")
    still=$(sed -n 's/^still_open=//p' "$work/capped.mem")
    state=$(podman inspect --format '{{.State.Status}} oom={{.State.OOMKilled}}' "$capped")
    mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
    if [ "$conns_rc" -eq 0 ] && [ "$opened" = 1000 ] && [ "$still" = 1000 ] && [ "$state" = "running oom=false" ] &&
       [ "$limit" = 16777216 ]; then
        pass "--memory 16m ($limit_file $limit): 1000 keep-alive connections all answered and held, peak $peak_file $peak B ($(mib "$peak")), $(secs "$conns_ms")"
    else
        tail -n 3 "$work/capped.err"
        fail "--memory 16m: rc $conns_rc, $opened answered, $still held, container $state, limit '$limit'"
    fi
    add_summary "--memory 16m, 1000 keep-alive conns:" "peak ${peak:-?} B ($(mib "${peak:-0}"); $peak_file), highest ${cur_file} seen ${high:-?} B, RSS $(sed -n 's/^loaded_rss=//p' "$work/capped.mem") B"
    podman rm -f -t 0 "$capped" >/dev/null 2>&1
else
    show_container "$capped"
    fail "the container under --memory 16m did not start"
fi

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
