# stash2plex's Stash plugin command, for a Stash with or without Node.js (POSIX sh; BusyBox's is enough).
# scripts/build-plugin.mjs copies it into each plugin folder; the manifests run it as
#   exec: [sh, "{pluginDir}/stash2plex.sh"]          stash2plex: the Node hook, else the HTTP hook
#   exec: [sh, "{pluginDir}/stash2plex.sh", wget]    stash2plex-http: the HTTP hook with wget
#   exec: [sh, "{pluginDir}/stash2plex.sh", curl]    stash2plex-curl: the HTTP hook with curl
#
# The Node hook (stash2plex.cjs beside this file) runs when `node` is on PATH: hooks and tasks. Without
# it, the HTTP hook posts the plugin input (stdin) to the dashboard's POST /api/stash/hook with wget or
# curl; its answer is the plugin output. A Stash whose hook cannot start skips the hooks of every other
# plugin on the same trigger (stashapp/stash pkg/plugin/hooks.go), so this script always starts, and
# answers any failure with one {"error": …} line on stdout (Stash shows it), exit 1, within seconds.
#
# STASH2PLEX_URL and HOOK_TOKEN come from the environment or from the .env of this folder (Stash runs a
# plugin in its own working directory, so the folder is found from this script's path), never from the
# command line, which Stash logs at Debug level. S2P_HOOK_HTTP_TIMEOUT_S (default 5) bounds the request,
# so a dashboard that never answers cannot hold a scene save.
#
# The token is in no process's argv (`ps` shows every local user each one): curl reads its
# `Authorization: Bearer` header from a here-document; wget (BusyBox or GNU) can only take a header from
# its argv, so it posts a private file (mktemp, mode 600, removed on exit) holding the token's line, then
# the input, as Content-Type application/x-stash2plex-hook, which the dashboard reads token line first.
# That line comes from a here-document too, never from a command's arguments.
#
# auto takes wget when both are there, not curl (which needs no file): the file is readable only by the
# account that can already read the .env, so curl would hide the token from nobody more; curl before
# 7.76 (Debian 11, Ubuntu 20.04) lacks --fail-with-body, so preferring it would break hooks that work
# with wget today, and telling its version would cost another process on every save. The
# stash2plex-curl plugin is there for whoever wants curl.

case $0 in
  */*) dir=${0%/*} ;;
  *) dir=. ;;
esac
mode=${1:-auto}

# One log line for Stash's log (level error), one JSON line as the plugin output, exit 1.
fail() {
  printf '\001e\002stash2plex: %s\n' "$1" >&2
  printf '{"error":"stash2plex: %s"}\n' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
  exit 1
}

case $mode in
  auto) if command -v node >/dev/null 2>&1; then exec node "$dir/stash2plex.cjs"; fi ;;
  wget | curl) ;;
  *) fail "unknown mode \"$mode\" (auto, wget or curl)" ;;
esac

# KEY=value of the plugin folder's .env (the last one; surrounding quotes removed).
dotenv() {
  [ -r "$dir/.env" ] || return 0
  sed -n "s/^[[:space:]]*\(export[[:space:]][[:space:]]*\)\{0,1\}$1[[:space:]]*=[[:space:]]*//p" "$dir/.env" |
    tail -n 1 | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

url=${STASH2PLEX_URL:-$(dotenv STASH2PLEX_URL)}
token=${HOOK_TOKEN:-$(dotenv HOOK_TOKEN)}
limit=${S2P_HOOK_HTTP_TIMEOUT_S:-5}
case $limit in '' | *[!0-9]* | 0) limit=5 ;; esac
nonode=
[ "$mode" = auto ] && nonode='node (Node.js 20 or newer) is not on PATH, so the HTTP hook runs: '
[ -n "$url" ] || fail "${nonode}STASH2PLEX_URL is not set (the dashboard as Stash reaches it, in $dir/.env)"
[ -n "$token" ] || fail "${nonode}HOOK_TOKEN is not set (the dashboard's HOOK_TOKEN, in $dir/.env)"
case $url in
  http://*@* | https://*@*) fail "STASH2PLEX_URL must not carry credentials (the hook sends HOOK_TOKEN)" ;;
  http://* | https://*) ;;
  *) fail "STASH2PLEX_URL must be an http:// or https:// URL, e.g. http://stash2plex:3000" ;;
esac
case $token in *[!A-Za-z0-9._~+/=-]*) fail "HOOK_TOKEN must be a bearer token: letters, digits and - . _ ~ + /" ;; esac
endpoint="${url%/}/api/stash/hook"

tool=$mode
if [ "$tool" = auto ]; then
  if command -v wget >/dev/null 2>&1; then
    tool=wget
  elif command -v curl >/dev/null 2>&1; then
    tool=curl
  else
    fail "${nonode}neither wget nor curl is on PATH"
  fi
fi
command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH"

umask 077
tmp=${TMPDIR:-/tmp}/stash2plex.$$
err=$(mktemp 2>/dev/null) || err=$tmp.err
body=
trap 'rm -f "$err" ${body:+"$body"}' EXIT
trap 'exit 1' HUP INT TERM
if [ "$tool" = wget ]; then
  # The token's line, then the input: wget takes no header but from its argv (see the top). GNU wget
  # (Debian-based images) cannot post a pipe anyway (it needs the size first); BusyBox wget takes a file
  # as well. Only mktemp's file (new, private), never a guessable name that someone else could own.
  body=$(mktemp 2>/dev/null) || fail "mktemp could not create a private file in ${TMPDIR:-/tmp} for wget to post"
  cat /dev/fd/4 - >"$body" 4<<EOF || fail "the plugin input could not be written to $body"
$token
EOF
fi
# A background job's stdin is /dev/null unless redirected: the input goes through fd 3.
exec 3<&0
answer=$(
  # The shell's own "Terminated" when the watchdog ends the request is no log line for Stash.
  exec 2>/dev/null
  if [ "$tool" = wget ]; then
    # The token is the body's first line (a content type is no secret); curl's is a here-document.
    wget -q -O - --header 'Content-Type: application/x-stash2plex-hook' --post-file "$body" "$endpoint" 2>"$err" &
  else
    curl -s -S --fail-with-body --max-time "$limit" -X POST -H @/dev/fd/4 -H 'Content-Type: application/json' \
      --data-binary @- "$endpoint" <&3 2>"$err" 4<<EOF &
Authorization: Bearer $token
EOF
  fi
  pid=$!
  (
    sleep "$limit"
    kill "$pid"
  ) >/dev/null 2>&1 &
  watchdog=$!
  wait "$pid"
  rc=$?
  kill "$watchdog" 2>/dev/null
  exit "$rc"
)
rc=$?
exec 3<&-
if [ "$rc" -eq 0 ] && [ -n "$answer" ]; then
  printf '%s\n' "$answer"
  exit 0
fi
# curl --fail-with-body: the dashboard's own {"error": …} line.
case $answer in '{"error":'*)
  printf '%s\n' "$answer"
  exit 1
  ;;
esac
why=$(head -n 1 "$err" 2>/dev/null)
# GNU wget -q says nothing; its exit status tells (BusyBox wget always says why, and exits 1).
if [ -z "$why" ] && [ "$tool" = wget ]; then
  case $rc in
    4) why='wget: network failure' ;;
    5) why='wget: TLS verification failed' ;;
    6) why='wget: server returned error: HTTP 401 Unauthorized' ;;
    8) why='wget: server returned an HTTP error' ;;
  esac
fi
if [ "$rc" -gt 128 ] || [ "$rc" -eq 28 ]; then
  fail "no answer from the dashboard at $url within $limit s (the event was not recorded; reconciliation catches the scene up)"
fi
fail "the dashboard at $url did not take the event (${why:-$tool exit $rc}; the event was not recorded; reconciliation catches the scene up)"
