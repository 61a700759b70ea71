#!/usr/bin/env bash
# What the test suites need from the machine, installed when missing (Debian packages, apt-get as
# root, or through sudo when it needs no password); silent when everything is there. `npm test`
# runs it first (the `pretest` script) and so does .ci/run. Idempotent.
#   redis-server  the Redis integration tests start their own redis-server processes (or REDIS_SERVER_BIN)
#   chromium      the dashboard test drives it with playwright-core (or CHROMIUM_BIN)
#   varnish, varnish-modules  the edge tests start varnishd (with vmod xkey) in front of the demo (or VARNISHD_BIN)
#   postgresql    the demo suites run on the server at 127.0.0.1:5432 (or TEST_POSTGRES_URL); it is
#                 started when installed but not answering. A fresh install gets the password
#                 "postgres" for the postgres user, the tests' default URL.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    echo "test-deps: needs root to run: $*" >&2
    return 1
  fi
}

missing=()
if [ -z "${REDIS_SERVER_BIN:-}" ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
if [ -z "${CHROMIUM_BIN:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ -z "${VARNISHD_BIN:-}" ] && ! command -v varnishd >/dev/null 2>&1 && [ ! -x /usr/sbin/varnishd ]; then missing+=(varnish); fi
if [ -z "${VARNISHD_BIN:-}" ] && ! compgen -G "/usr/lib/*/varnish/vmods/libvmod_xkey.so" >/dev/null; then missing+=(varnish-modules); fi
fresh_postgres=false
if [ -z "${TEST_POSTGRES_URL:-}" ] && ! command -v pg_ctlcluster >/dev/null 2>&1; then
  missing+=(postgresql)
  fresh_postgres=true
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: the tests need ${missing[*]}; this is not a Debian-like system (no apt-get): install them, or set REDIS_SERVER_BIN, CHROMIUM_BIN, VARNISHD_BIN, TEST_POSTGRES_URL" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
    echo "test-deps: the tests need ${missing[*]}: install them as root (apt-get install ${missing[*]}), or set REDIS_SERVER_BIN, CHROMIUM_BIN, TEST_POSTGRES_URL" >&2
    exit 1
  fi
  echo "test-deps: installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

start_postgres() {
  for version in $(ls /etc/postgresql 2>/dev/null); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 1
  done
  echo "test-deps: PostgreSQL does not answer on 127.0.0.1:5432 (pg_ctlcluster <version> main start)" >&2
  return 1
}

if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "test-deps: starting PostgreSQL"
    start_postgres
  fi
  if [ "$fresh_postgres" = true ]; then
    # A fresh install asks for a password on TCP: the tests' default URL says "postgres".
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  fi
fi
