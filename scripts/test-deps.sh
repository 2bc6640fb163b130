#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, when they are missing: Debian's own
# aws-cli v2 and boto3 (the tests call /usr/bin/aws and /usr/bin/python3; a pyenv python or aws-cli v1
# earlier on PATH does not count), PostgreSQL's server binaries, OpenSSL, Go with Debian's AWS SDK for
# Go v2 (built in GOPATH mode: no module proxy on this network), Chromium for the operator UI's browser
# test, the tools of the fault tests (iproute2 and util-linux for network namespaces and loop
# devices, e2fsprogs for ext4 images), and a C compiler for the benchmarks' C load generator.
# Needs root (or sudo) and Debian's apt when anything is missing.
set -euo pipefail

need=()
/usr/bin/aws --version 2>&1 | grep -q 'aws-cli/2' || need+=(awscli)
/usr/bin/python3 -c 'import boto3' >/dev/null 2>&1 || need+=(python3-boto3)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/service/sts ] || need+=(golang-github-aws-aws-sdk-go-v2-dev)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 && command -v losetup >/dev/null 2>&1 || need+=(util-linux)
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v cc >/dev/null 2>&1 || need+=(gcc)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "test-deps: missing Debian packages: ${need[*]}" >&2
    echo "test-deps: install them as root: apt-get update && apt-get install -y ${need[*]}" >&2
    exit 1
  }
  sudo=(sudo)
fi
echo "test-deps: installing ${need[*]} (Debian packages the tests use)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
