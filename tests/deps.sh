#!/bin/sh
# Install what the test suite needs from Debian packages when it is missing.
#   tests/deps.sh                 install missing tools (needs root or sudo for apt-get)
#   tests/deps.sh --bench         also the echo servers make bench compares against
#   tests/deps.sh --sanitizer-cc  print the compiler to use for the ASan/UBSan build
set -eu

sanitizer_cc() {
	for cc in clang gcc cc; do
		command -v "$cc" >/dev/null 2>&1 || continue
		if echo 'int main(void){return 0;}' |
		    "$cc" -x c -fsanitize=address,undefined -o /dev/null - >/dev/null 2>&1; then
			echo "$cc"
			return 0
		fi
	done
	echo "tests/deps.sh: no compiler here builds with -fsanitize=address,undefined" >&2
	return 1
}

if [ "${1:-}" = "--sanitizer-cc" ]; then
	sanitizer_cc
	exit $?
fi

missing=""
need() {	# need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need cc gcc
need make make
need python3 python3
need setpriv util-linux
need prlimit util-linux
need unshare util-linux
need mount mount
need clang clang
need xinetd xinetd
need systemd-socket-activate systemd
need systemd-analyze systemd
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need fakeroot fakeroot
need man man-db
need haproxy haproxy
need strace strace
need ps procps
need iptables iptables
need nsenter util-linux
need ip iproute2
need openssl openssl
need socat socat
need tcpserver ucspi-tcp
need curl curl
need promtool prometheus
need ss iproute2
need nm binutils
need file file
# The container tests: podman with runc and netavark, its pods' init, buildah; kubectl for
# kustomize (kubectl kustomize renders deploy/kubernetes with no cluster).
need podman podman
need runc runc
need catatonit catatonit
need buildah buildah
need kubectl kubernetes-client
[ -x /usr/lib/podman/netavark ] || missing="$missing netavark"
# dockerd, unpacked below, links libdevmapper
ldconfig -p | grep -q 'libdevmapper\.so\.1\.02\.1 ' || missing="$missing libdevmapper1.02.1"
need chromium chromium
# OpenSSL's headers and libraries: the one build dependency beyond libc
[ -f /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
if [ "${1:-}" = "--bench" ]; then
	need ncat ncat
	need tcpserver ucspi-tcp
	need xinetd xinetd
	need node nodejs
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ -n "$missing" ]; then
	echo "tests/deps.sh: installing:$missing"
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
sanitizer_cc >/dev/null

# unpack PACKAGE: the package's files in build/deps/PACKAGE (dpkg -x), not installed.
unpack() {
	dir="$(dirname "$0")/../build/deps/$1"
	[ -d "$dir/usr" ] && return 0
	mkdir -p "$dir"
	cd "$dir/.."
	apt-get download "$1" >/dev/null 2>&1 || {
		$sudo apt-get update -qq && apt-get download "$1" >/dev/null
	}
	dpkg -x "$1"_*.deb "$1"
	rm -f "$1"_*.deb
	cd - >/dev/null
}
# openbsd-inetd conflicts with xinetd as a package: the tests run it unpacked instead.
unpack openbsd-inetd
# Debian's kubectl (1.20 in Debian 12, kustomize 2.0.3): test_kube renders deploy/ with it
# as well as with the kubectl on PATH, which may be newer.
unpack kubernetes-client
# Docker (docker.io and its containerd), which test_container runs on a store of its own
# in namespaces of its own: unpacked, so that no docker service starts on the machine.
unpack docker.io
unpack containerd
