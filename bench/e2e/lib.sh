# shellcheck shell=bash
# bench/e2e/lib.sh — shell helpers shared by the end-to-end scripts (sourced).
# Loopback only: every helper looks at 127.0.0.1 listeners of this machine.

# Stop a job started under `setsid timeout ...`: signal its process group, wait up
# to 5 s, then KILL. Returns 1 when it had to be killed.
stop_job() {
  local tpid=$1 sig=$2 i
  [ -n "$tpid" ] || return 0
  kill -s "$sig" -- "-$tpid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  local late=0
  if kill -0 "$tpid" 2>/dev/null; then
    late=1
    kill -s KILL -- "-$tpid" 2>/dev/null || true
    kill -s KILL "$tpid" 2>/dev/null || true
  fi
  wait "$tpid" 2>/dev/null || true
  return "$late"
}

# True when something on this machine uses port $1 of protocol $2 (tcp, the
# default, or udp).
port_in_use() {
  local hex proto=${2:-tcp}
  hex=$(printf ':%04X ' "$1")
  grep -q "$hex" "/proc/net/$proto" "/proc/net/${proto}6" 2>/dev/null
}

# Socket inode of the 127.0.0.1:$1 listener, empty when none.
listen_inode() {
  awk -v local="0100007F:$(printf '%04X' "$1")" '$2 == local && $3 == "00000000:0000" && $4 == "0A" { print $10; exit }' \
    /proc/net/tcp 2>/dev/null
}

# True when process $1 holds the 127.0.0.1:$2 listening socket.
owns_listener() {
  local pid=$1 port=$2 inode
  inode=$(listen_inode "$port")
  [ -n "$inode" ] || return 1
  find "/proc/$pid/fd" -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | grep -q .
}
