#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install GoldTicket.
#   tools/venv.sh run   what running needs (`make run`): GoldTicket and its install_requires
#   tools/venv.sh dev   that and the dev extra: the tests, linters and their Debian tools
#                       (`make install`, `make test`, `make lint`; the default)
# On a fresh Debian machine run as root it installs the Debian packages it needs;
# otherwise it names them and stops.
set -euo pipefail
venv=${VENV:-.venv}
set_name=${1:-dev}
case "$set_name" in
run) extras="" ;;
dev) extras="[dev]" ;;
*)
  echo "usage: tools/venv.sh [run|dev]" >&2
  exit 2
  ;;
esac
# One stamp per set; the dev set holds the run set, so it stamps both.
stamp="$venv/.installed-$set_name"

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

may_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_updated=false
need_debian() {
  if may_apt; then
    echo "installing Debian packages: $*" >&2
    if [ "$apt_updated" = false ]; then apt-get update -qq >/dev/null; fi
    apt_updated=true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "missing Debian packages; run: sudo apt-get install $*" >&2
    exit 1
  fi
}

python=$(find_python) || { need_debian python3 python3-venv; python=$(find_python); }

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    need_debian python3-venv
    "$python" -m venv "$venv"
  fi
fi

# The Debian packages below are only loaded when GoldTicket runs, so they are installed (in one
# apt-get, beside pip's install) or named, and the script waits for them at the end.
debian=""
# SoftHSM2 stands in for the BSIM cards' secure element (PKCS#11). Without it GoldTicket
# falls back to software cards, so it is installed when we may, and named when we may not.
if [ ! -e /usr/lib/softhsm/libsofthsm2.so ] && [ ! -e /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so ]; then
  if may_apt; then
    debian="softhsm2"
  else
    echo "note: softhsm2 is not installed (sudo apt-get install softhsm2); using software cards" >&2
  fi
fi

# PDF certificates: WeasyPrint needs pango and harfbuzz's subsetter (without it rendering is ~4x
# slower) and Chinese needs a CJK font; WenQuanYi Micro Hei is the small one we render with.
pdf_packages="fonts-wqy-microhei fontconfig libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0"
pdf_missing=false
if ! fc-list 2>/dev/null | grep -q "WenQuanYi Micro Hei" ||
  ! /sbin/ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0"; then
  pdf_missing=true
fi
# poppler-utils (pdfsig, pdftoppm) and libnss3-tools (certutil): the tests' independent signature
# check and the README's PNG, so only the dev set installs them.
if [ "$set_name" = dev ]; then
  pdf_packages="$pdf_packages poppler-utils libnss3-tools"
  if ! command -v pdfsig >/dev/null 2>&1 || ! command -v certutil >/dev/null 2>&1; then
    pdf_missing=true
  fi
fi
if [ "$pdf_missing" = true ]; then
  if may_apt; then
    debian="$debian $pdf_packages"
  else
    echo "note: certificates need: sudo apt-get install $pdf_packages" >&2
  fi
fi
apt_job=""
if [ -n "$debian" ]; then
  # shellcheck disable=SC2086
  need_debian $debian &
  apt_job=$!
fi

# setup.cfg newer than the stamp: its requirements may have changed. The build runs in pip's
# isolated environment (pyproject.toml's setuptools), so the venv's own setuptools is not used.
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e ".$extras"
  touch "$stamp"
  if [ "$set_name" = dev ]; then touch "$venv/.installed-run"; fi
fi

# The portal's message catalogs (web/portal/translations/*.po) compiled to .mo for Flask-Babel.
"$venv/bin/pybabel" -q compile -d web/portal/translations

if [ -n "$apt_job" ]; then wait "$apt_job"; fi
