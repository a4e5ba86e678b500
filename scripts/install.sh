#!/usr/bin/env bash
# Prepares a machine for hrsync: Debian prerequisites first, then .venv/ with hrsync installed editable.
#
#   scripts/install.sh             check prerequisites, install missing ones with apt when root (or
#                                  through `sudo -n`), then create or refresh .venv/   (`make install`)
#   scripts/install.sh --system    apt-get update and install every Debian package below, then the
#                                  SCIMMY test server's npm packages (.ci/run)
#   scripts/install.sh --packages  print the Debian packages, one a line
#
# Quick and idempotent: with everything in place it only probes, and pip runs again only when
# pyproject.toml is newer than the stamp the last successful install left in .venv/.
set -euo pipefail

# The one list of Debian packages hrsync builds, tests, demonstrates and benchmarks with.
APT_PACKAGES=(
  python3 python3-venv python3-dev # Python 3.11 on Debian 12, venv with ensurepip, Python.h
  gcc make                         # python-ldap compiles a C extension; the Makefile
  libldap2-dev libsasl2-dev        # ldap.h and sasl/sasl.h for python-ldap
  samba-ad-dc samba winbind        # the throwaway AD domain controller in tests, demo and bench
  krb5-user smbclient              # Kerberos and SMB clients the DC fixture uses to check itself
  ldap-utils                       # ldapadd: the benchmark's raw baseline
  chromium chromium-driver         # the browser the Playwright end-to-end tests drive
  wrk                              # the HTTP load generator of the console benchmark
  nodejs npm                       # SCIMMY, the second SCIM test server (src/hrsync/testing/scimmy)
  openssh-server openssh-client    # sshd for the SFTP delivery tests; sftp, the bench's baseline
)

# Build prerequisites stop the install; the others only limit what tests, demo and bench can do.
BUILD_PACKAGES=(python3 python3-venv python3-dev gcc libldap2-dev libsasl2-dev)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.hrsync-install-stamp"
PYTHON_CANDIDATES=("${PYTHON:-}" python3.11 python3 python3.12 python3.13 /usr/bin/python3)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" # samba lives in /usr/sbin
export DEBIAN_FRONTEND=noninteractive               # krb5-config asks for a realm otherwise

say() { printf 'install: %s\n' "$*"; }
fail() {
  printf 'install: %s\n' "$*" >&2
  exit 1
}

# --- Python -----------------------------------------------------------------------------------

is_python_recent() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
has_python_venv() { "$1" -c 'import ensurepip, venv' 2>/dev/null; }
has_python_headers() {
  "$1" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null
}

# Prints the first interpreter that is 3.11+ with venv and headers; fails when there is none.
find_python() {
  local candidate
  for candidate in "${PYTHON_CANDIDATES[@]}"; do
    if [[ -z "$candidate" ]] || ! command -v "$candidate" >/dev/null; then continue; fi
    if is_python_recent "$candidate" && has_python_venv "$candidate" && has_python_headers "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# --- Debian prerequisites ----------------------------------------------------------------------

# Prints "package<TAB>what is missing" for every prerequisite this machine lacks.
list_missing() {
  local python=/usr/bin/python3
  if ! find_python >/dev/null; then
    if ! is_python_recent "$python"; then
      printf 'python3\tPython 3.11 or newer\n'
    else
      has_python_venv "$python" || printf 'python3-venv\tthe venv and ensurepip modules\n'
      has_python_headers "$python" || printf 'python3-dev\tPython.h\n'
    fi
  fi
  command -v gcc >/dev/null || printf 'gcc\ta C compiler (gcc)\n'
  command -v make >/dev/null || printf 'make\tGNU make\n'
  [[ -f /usr/include/ldap.h ]] || printf 'libldap2-dev\t/usr/include/ldap.h\n'
  [[ -f /usr/include/sasl/sasl.h ]] || printf 'libsasl2-dev\t/usr/include/sasl/sasl.h\n'
  command -v samba >/dev/null || printf 'samba\tthe samba daemon\n'
  if ! command -v samba-tool >/dev/null || is_package_missing samba-ad-dc; then
    printf 'samba-ad-dc\tsamba-tool and the AD DC provisioning files\n'
  fi
  command -v wbinfo >/dev/null || printf 'winbind\twinbindd\n'
  command -v kinit >/dev/null || printf 'krb5-user\tkinit\n'
  command -v smbclient >/dev/null || printf 'smbclient\tsmbclient\n'
  command -v ldapadd >/dev/null || printf 'ldap-utils\tldapadd\n'
  [[ -x /usr/sbin/sshd ]] || printf 'openssh-server\tsshd for the SFTP tests\n'
  command -v sftp >/dev/null || printf 'openssh-client\tsftp, the SFTP benchmark baseline\n'
  [[ -x /usr/bin/chromium ]] || printf 'chromium\t/usr/bin/chromium for the browser tests\n'
  [[ -x /usr/bin/chromedriver ]] || printf 'chromium-driver\tchromedriver\n'
  command -v wrk >/dev/null || printf 'wrk\twrk for the console benchmark\n'
  command -v node >/dev/null || printf 'nodejs\tnode for the SCIMMY SCIM test server\n'
  command -v npm >/dev/null || printf 'npm\tnpm for the SCIMMY SCIM test server\n'
  return 0
}

# True only when dpkg can tell and says the package is absent (false on machines without dpkg).
is_package_missing() {
  command -v dpkg-query >/dev/null || return 1
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" != "install ok installed" ]]
}

can_be_root() { [[ "$(id -u)" == 0 ]] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; }

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n env DEBIAN_FRONTEND=noninteractive "$@"; fi
}

# Installs Debian packages without letting their services start: the packaged Samba would hold the
# ports and state that tests need for their own throwaway domain controllers.
apt_install() {
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi
  local status=0
  # Another apt-get (an unattended upgrade) may hold the dpkg lock: wait for it, up to 5 min.
  local wait=(-o DPkg::Lock::Timeout=300)
  as_root apt-get "${wait[@]}" update -q && as_root apt-get "${wait[@]}" install -y -q "$@" ||
    status=$?
  [[ "$added_policy" == 1 ]] && as_root rm -f "$policy"
  [[ "$status" == 0 ]] || fail "apt-get install failed (exit $status)"
  if [[ -d /run/systemd/system ]]; then
    as_root systemctl disable --now samba-ad-dc smbd nmbd winbind >/dev/null 2>&1 || true
  fi
}

is_build_package() {
  local package
  for package in "${BUILD_PACKAGES[@]}"; do [[ "$package" == "$1" ]] && return 0; done
  return 1
}

ensure_prerequisites() {
  local missing
  missing="$(list_missing)"
  [[ -z "$missing" ]] && return 0
  local -a packages
  mapfile -t packages < <(cut -f1 <<<"$missing" | sort -u)
  if can_be_root && command -v apt-get >/dev/null; then
    say "installing missing Debian packages: ${packages[*]}"
    apt_install "${packages[@]}"
    missing="$(list_missing)"
    [[ -z "$missing" ]] && return 0
    mapfile -t packages < <(cut -f1 <<<"$missing" | sort -u)
  fi
  report_missing "$missing" "${packages[@]}"
}

# Explains what is missing; stops only when hrsync itself cannot be built.
report_missing() {
  local missing="$1"
  shift
  say "missing prerequisites:"
  while IFS=$'\t' read -r package what; do
    printf '  %-14s %s\n' "$package" "$what" >&2
  done <<<"$missing"
  say "install them with:  sudo apt-get update && sudo apt-get install -y $*"
  local package
  for package in "$@"; do
    is_build_package "$package" && fail "hrsync cannot be built without these."
  done
  say "continuing: hrsync builds, but the tests that need these fail (or skip) and the demo simulates AD."
}

# --- the virtual environment ---------------------------------------------------------------------

is_venv_healthy() {
  [[ -x "$VENV/bin/python" ]] && is_python_recent "$VENV/bin/python" && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

ensure_venv() {
  if ! is_venv_healthy; then
    local python
    python="$(find_python)" || fail "no Python 3.11+ with venv and headers found (tried: ${PYTHON_CANDIDATES[*]})"
    [[ -e "$VENV" ]] && say "replacing the broken $VENV"
    rm -rf "$VENV"
    say "creating $VENV with $python"
    "$python" -m venv "$VENV"
  fi
  if [[ -f "$STAMP" && "$STAMP" -nt "$ROOT/pyproject.toml" && -x "$VENV/bin/hrsync" ]]; then
    return 0
  fi
  say "installing hrsync and its development tools into $VENV (a few minutes the first time)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet -e '.[dev]')
  touch "$STAMP"
}

# --- the SCIMMY test server's npm packages ------------------------------------------------------

SCIMMY_DIR="$ROOT/src/hrsync/testing/scimmy"

# `npm ci` from the committed lock file when node_modules is missing or older than it: the same
# rule as hrsync.testing.scim.ensure_scimmy_installed, which would otherwise run it at first use.
ensure_scimmy_packages() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    say "no node or npm: the SCIMMY SCIM test server cannot run (Debian packages nodejs npm)"
    return 0
  fi
  if [[ -d "$SCIMMY_DIR/node_modules" && ! "$SCIMMY_DIR/package-lock.json" -nt "$SCIMMY_DIR/node_modules" ]]; then
    return 0
  fi
  say "installing the SCIMMY test server's npm packages (npm ci in $SCIMMY_DIR)"
  (cd "$SCIMMY_DIR" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in $SCIMMY_DIR failed"
  touch "$SCIMMY_DIR/node_modules"
}

# The packages --system installs: all of APT_PACKAGES, except npm where an npm is already there.
# NodeSource's nodejs bundles npm and conflicts with Debian's npm package, so asking for both
# would fail the whole install on a machine that has everything it needs.
system_packages() {
  local package
  for package in "${APT_PACKAGES[@]}"; do
    [[ "$package" == npm ]] && command -v npm >/dev/null && continue
    printf '%s\n' "$package"
  done
}

# --- entry point ---------------------------------------------------------------------------------

main() {
  case "${1:-}" in
    --packages)
      printf '%s\n' "${APT_PACKAGES[@]}"
      ;;
    --system)
      can_be_root || fail "--system needs root (or passwordless sudo)"
      local -a packages
      mapfile -t packages < <(system_packages)
      apt_install "${packages[@]}"
      ensure_scimmy_packages
      ;;
    "")
      ensure_prerequisites
      ensure_venv
      ensure_scimmy_packages
      say "ready: $VENV/bin/hrsync"
      ;;
    *)
      fail "usage: scripts/install.sh [--system | --packages]"
      ;;
  esac
}

main "$@"
