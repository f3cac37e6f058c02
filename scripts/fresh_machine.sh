#!/usr/bin/env bash
# Runs COMMAND as root in a fresh, minimal Debian 12 root (a stand-in for a
# fresh Debian 12 machine), in a clone of this repository's committed HEAD,
# and exits with COMMAND's status. It shows what the README's commands need
# that a fresh machine lacks (a package missing from scripts/setup.sh).
#
#   bash scripts/fresh_machine.sh [COMMAND]      (default: bash scripts/test.sh)
#
# One argument is a shell command line (`'YOLO_WERROR=ON bash scripts/test.sh'`);
# several are one command and its arguments, quoted as given. Uncommitted
# changes are not seen: commit first.
#
# How:
#  - The root comes from `debootstrap --variant=minbase bookworm MIRROR`, the
#    mirror taken from this machine's apt sources. The pristine root is kept
#    as a tarball, ${XDG_CACHE_HOME:-~/.cache}/yolo-cpu/bookworm-minbase.tar,
#    and reused while it exists (delete it, or FRESH_REBUILD=1, to make it
#    anew); every run extracts a fresh copy into a folder under
#    ${TMPDIR:-/var/tmp} and removes it at the end (FRESH_KEEP=1 keeps it).
#  - Packages: this script installs debootstrap (and Debian's archive keyring)
#    on the host itself with apt-get when they are missing; scripts/setup.sh
#    does not. Downloaded .deb files are shared with the host's apt cache:
#    /var/cache/apt/archives is bind-mounted into the root (debootstrap uses
#    it as its --cache-dir too), so a second run downloads nothing new.
#    apt takes that folder's lock, so run one of these at a time (and no
#    apt-get install on the host meanwhile).
#  - Inside the root: the host's apt sources, the apt.conf.d files that set
#    Acquire:: or proxy options, apt's auth files, /etc/resolv.conf and the
#    CA file NODE_EXTRA_CA_CERTS names (passed on, for npm) are
#    copied in; /proc, /dev (rbind, then --make-rslave), /sys (rbind, rslave)
#    and a tmpfs on /dev/shm are mounted, and unmounted on every exit path
#    (EXIT/INT/TERM; a lazy unmount when a plain one fails). The root is never
#    removed while anything is still mounted under it.
#  - COMMAND runs with chroot, as root, in /src/yolo-cpu (a `git clone` of
#    the repository this script lives in), with a clean environment: HOME,
#    PATH, LANG=C.UTF-8, TERM, CI and every YOLO_* variable of the caller;
#    standard input is /dev/null. On SIGINT or SIGTERM it gets SIGTERM (its
#    process group; SIGKILL 10 s later), and whatever still runs in the root
#    when the script ends is killed before the unmounts.
#    Tests that start mpirun as root pass --allow-run-as-root themselves.
#  - It prints how long each phase took.
# Needs root (re-runs itself with sudo otherwise).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then exec sudo --preserve-env=CI,TMPDIR,XDG_CACHE_HOME,FRESH_KEEP,FRESH_REBUILD \
  HOME="$HOME" bash "$0" "$@"; fi

repo=$(cd "$(dirname "$0")/.." && pwd)
suite=bookworm
cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/yolo-cpu
tarball=$cache_dir/$suite-minbase.tar
apt_archives=/var/cache/apt/archives
if [ $# -eq 0 ]; then
  command_line="bash scripts/test.sh"
elif [ $# -eq 1 ]; then
  command_line=$1
else
  command_line=$(printf '%q ' "$@")
fi

say() { echo "fresh_machine: $*"; }
phase_start=0
phase() { phase_name=$1; phase_start=$(date +%s); say "$1 ..."; }
phase_done() { say "$phase_name took $(( $(date +%s) - phase_start )) s"; }

# The Debian mirror this machine uses (deb822 sources first, then one-line).
mirror() {
  local f uri=""
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # The URIs of the first stanza whose Suites hold the plain suite name.
    uri=$(awk -v s="$suite" '
      /^[[:space:]]*$/ { if (u != "" && hit) { print u; exit } u = ""; hit = 0; next }
      /^URIs:/ { u = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
      END { if (u != "" && hit) print u }' "$f" | head -n1)
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk -v s="$suite" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i+1) == s) { print $i; exit } break } }' \
      /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# Every mount point at or under $1, deepest first (from /proc/mounts).
mounts_under() {
  awk -v r="$1" '{ p = $2; gsub(/\\040/, " ", p); if (p == r || index(p, r "/") == 1) print p }' /proc/mounts |
    awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

# Processes whose root directory is the fresh root (COMMAND and anything it
# left running, such as a daemon), by pid.
processes_in_root() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
  done
  return 0
}

root=""
child=""
cleanup() {
  local status=$? m left pids
  trap - EXIT INT TERM
  [ -n "$root" ] && [ -d "$root" ] || exit "$status"
  # Nothing of COMMAND may outlive this script or keep the mounts busy.
  pids=$(processes_in_root)
  if [ -n "$pids" ]; then
    say "ending processes left in the root:"
    ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)" 2>/dev/null | sed 's/^/  /' || true
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  fi
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "cannot unmount $m"
  done < <(mounts_under "$root")
  left=$(mounts_under "$root")
  if [ -n "$left" ]; then
    say "still mounted under $root, not removing it:"; echo "$left" >&2
    [ "$status" -ne 0 ] || status=1
  elif [ "${FRESH_KEEP:-0}" = 1 ]; then
    say "kept the root in $root"
  else
    rm -rf --one-file-system "$root"
  fi
  exit "$status"
}
trap cleanup EXIT
# A signal while COMMAND runs is passed on to it (its own session, so its
# whole process group), with SIGKILL after 10 s; then the EXIT trap cleans up.
on_signal() {
  say "$1; stopping the command"
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$child" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$child" 2>/dev/null || true
  fi
  exit "$2"
}
trap 'on_signal interrupted 130' INT
trap 'on_signal terminated 143' TERM

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
command -v git >/dev/null || need+=(git)
if ((${#need[@]})); then
  say "installing ${need[*]} on this machine"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

root=$(realpath "$(mktemp -d "${TMPDIR:-/var/tmp}/yolo-fresh.XXXXXX")")
chmod 755 "$root"
if [ "${FRESH_REBUILD:-0}" = 1 ]; then rm -f "$tarball"; fi
if [ -f "$tarball" ]; then
  phase "extracting $tarball"
  tar -C "$root" --numeric-owner -xpf "$tarball"
  phase_done
else
  url=$(mirror)
  phase "debootstrap --variant=minbase $suite $url"
  mkdir -p "$cache_dir" "$apt_archives/partial"
  # The tarball is only written once debootstrap succeeded, so a failed run
  # leaves nothing half-made to reuse.
  if ! debootstrap --variant=minbase --cache-dir="$apt_archives" "$suite" "$root" "$url" \
      >"$root.debootstrap.log" 2>&1; then
    tail -n 30 "$root.debootstrap.log" >&2
    say "debootstrap failed; full log in $root.debootstrap.log"
    exit 1
  fi
  rm -f "$root.debootstrap.log"
  tar -C "$root" --numeric-owner -cpf "$tarball.tmp.$$" . && mv "$tarball.tmp.$$" "$tarball"
  phase_done
  say "cached the pristine root as $tarball ($(du -h "$tarball" | cut -f1))"
fi

# What apt needs to reach the archive from inside, as on this machine.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  rm -f "$root/etc/apt/sources.list"
elif [ -f /etc/apt/sources.list ]; then
  grep -v -E '^[[:space:]]*deb(-src)?[[:space:]].*(packages\.cloud\.google|nodesource)' /etc/apt/sources.list \
    > "$root/etc/apt/sources.list" || true
fi
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
  [ -f "$f" ] || continue
  if grep -qiE '^[^#/]*(Acquire::|proxy)' "$f"; then cp "$f" "$root/etc/apt/${f#/etc/apt/}"; fi
done
[ -f /etc/apt/auth.conf ] && cp -p /etc/apt/auth.conf "$root/etc/apt/"
if [ -d /etc/apt/auth.conf.d ]; then mkdir -p "$root/etc/apt/auth.conf.d" && cp -p /etc/apt/auth.conf.d/* "$root/etc/apt/auth.conf.d/" 2>/dev/null || true; fi
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The certificates this machine's node trusts beyond the usual ones (a
# network that inspects TLS has its own CA), so npm reaches its registry from
# inside as it does here; a machine without any needs nothing.
node_ca=""
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp -L "$NODE_EXTRA_CA_CERTS" "$root/etc/host-extra-ca.crt"
  node_ca=/etc/host-extra-ca.crt
fi

mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mkdir -p "$root/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
mkdir -p "$apt_archives/partial" "$root/var/cache/apt/archives"
mount --bind "$apt_archives" "$root/var/cache/apt/archives"

src=/src/yolo-cpu
git clone -q --no-hardlinks "$repo" "$root$src"
say "cloned $repo at $(git -C "$root$src" rev-parse --short HEAD) into $src"

envs=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
  TERM="${TERM:-dumb}")
[ -n "${CI:-}" ] && envs+=(CI="$CI")
[ -n "$node_ca" ] && envs+=(NODE_EXTRA_CA_CERTS="$node_ca")
for name in $(compgen -e); do
  if [[ "$name" == YOLO_* ]]; then envs+=("$name=${!name}"); fi
done

phase "running as root inside: $command_line"
# In the background, in a session of its own, so that the traps above run
# at once on a signal (bash defers them while a foreground child runs); its
# standard input is /dev/null.
status=0
setsid chroot "$root" /usr/bin/env -i "${envs[@]}" /bin/bash -c "cd $src && $command_line" </dev/null &
child=$!
wait "$child" || status=$?
phase_done
say "command exited with status $status"
exit "$status"
