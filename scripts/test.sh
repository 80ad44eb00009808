#!/usr/bin/env bash
# Set up everything the tests need, then run them. Used by the README and by .ci/run.
#   bash scripts/test.sh [pytest arguments]
# System packages (Debian): the real daemons the guest-configuration tests start, and what the
# VM suite (tests/vm, marker `vm`) builds and boots guests with.
# Python: a venv at .venv with the package and its test extras (pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(cloud-init caddy restic clevis clevis-luks tang rsyslog rsyslog-gnutls aide auditd
                 cryptsetup-bin e2fsprogs curl chromium python3-botocore nftables
                 openssl socat pebble systemd util-linux squid
                 qemu-system-x86 qemu-utils mmdebstrap genisoimage openssh-client)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing system packages (install them as root): ${missing[*]}" >&2
    exit 1
  fi
fi
command -v terraform >/dev/null || { echo "terraform is not on PATH" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m pip check
.venv/bin/ruff check generator ssb_guest tests scripts benchmarks

# Given a marker (-m) or test paths, one pytest run does what was asked. Otherwise the VM suite
# (QEMU boots, mostly waiting on the emulated guests) runs beside the rest, in a pytest run of
# its own whose output follows the other's: the whole takes about as long as the longer one.
for arg in "$@"; do
  case $arg in -m|-m*|tests*|*.py*|-k|-k*) exec .venv/bin/python -m pytest "$@" ;; esac
done
vm_log=$(mktemp "${TMPDIR:-/tmp}/ssb-vm-suite.XXXXXX.log")
.venv/bin/python -m pytest -m vm "$@" >"$vm_log" 2>&1 &
vm_pid=$!
trap 'kill "$vm_pid" 2>/dev/null; wait "$vm_pid" 2>/dev/null' INT TERM
rest=0
.venv/bin/python -m pytest -m "not vm" "$@" || rest=$?
vm=0
wait "$vm_pid" || vm=$?
echo
echo "==================== VM suite (tests/vm, run beside the rest) ===================="
cat "$vm_log"
rm -f "$vm_log"
# pytest exits 5 when a run selects no test; either run failing fails the whole.
for code in $rest $vm; do
  if [ "$code" -ne 0 ] && [ "$code" -ne 5 ]; then exit "$code"; fi
done
[ "$rest" -eq 5 ] && [ "$vm" -eq 5 ] && exit 5
exit 0
