#!/bin/sh
# ssb-log-pki: the private CA that authenticates log shipping (safespring-blueprints).
#
# No secret is ever part of the blueprint or the Terraform state: the CA key is created on the
# log collector at first boot and never leaves it. Clients get a certificate only when an
# administrator issues one here and copies it to them; until then they log locally and queue.
#
#   ssb-log-pki init [--dir DIR]             collector, first boot: CA + server certificate
#                                            (idempotent: existing keys are kept)
#   ssb-log-pki issue HOST [--dir DIR] [--address ADDR]
#                                            collector: a client bundle for HOST in DIR/issued/HOST/
#                                            {ca.pem,client.pem,client.key,collector-address}
#   ssb-log-pki install BUNDLE [--dir DIR] [--hosts FILE]
#                                            client: check a copied bundle, put it in place and
#                                            point the collector's name at its address
#   ssb-log-pki hosts [--dir DIR] [--hosts FILE]
#                                            client, every boot (ssb-log-hosts.service): put the
#                                            collector's address back into FILE
#
# The bundle carries the collector's address (default: its first IPv4 address) because the
# address exists only once the collector runs; `install` writes it to /etc/hosts (--hosts) under
# the fixed name the collector's certificate carries, so no address is baked into a blueprint.
# It also keeps the address in DIR/collector-address: images whose cloud-init manages
# /etc/hosts (Debian's) rewrite the file at every boot, and `hosts` then puts the line back.
# DIR defaults to /etc/safespring-blueprints/logging. Layout on the collector:
#   ca.pem (0644), server.pem (0644), server.key (0640, group rsyslog runs as),
#   private/ca.key (0600 in a 0700 directory: rsyslog is never allowed to read it).
# Layout on a client: ca.pem, client.pem (0644), client.key (0640, group rsyslog runs as).
set -eu
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# The name every client requires of the collector (rsyslog x509/name); never issued to clients.
SERVER_NAME=collector.logging.safespring-blueprints.internal
CA_DAYS=3650
LEAF_DAYS=825
DIR=/etc/safespring-blueprints/logging
HOSTS=/etc/hosts
ADDRESS=
HOSTS_MARK='# safespring-blueprints: log collector'
PROFILE=/etc/apparmor.d/usr.sbin.rsyslogd

die() { echo "ssb-log-pki: $*" >&2; exit 1; }

usage() {
    sed -n '8,18p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# The group rsyslogd runs as: Ubuntu drops privileges to syslog, Debian keeps root.
rsyslog_group() {
    g=$(sed -n 's/^[[:space:]]*\$PrivDropToGroup[[:space:]]\{1,\}\([A-Za-z0-9_-]\{1,\}\).*/\1/p' \
        /etc/rsyslog.conf 2>/dev/null | tail -n 1)
    if [ -n "$g" ] && getent group "$g" >/dev/null 2>&1; then echo "$g"; else echo root; fi
}

# Ubuntu confines rsyslogd with AppArmor; our snippet in /etc/apparmor.d/rsyslog.d/ lets it read
# DIR/*.pem and DIR/*.key (not DIR/private/). Reload the profile so the snippet takes effect.
apparmor_reload() {
    [ -r "$PROFILE" ] || return 0
    command -v apparmor_parser >/dev/null 2>&1 || return 0
    [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo N)" = Y ] || return 0
    apparmor_parser -r -T -W "$PROFILE" || echo "ssb-log-pki: warning: could not reload $PROFILE" >&2
}

valid_host() {
    [ "${#1}" -le 253 ] || return 1
    printf '%s\n' "$1" | grep -Eqx \
        '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*' || return 1
    [ "$1" != "$SERVER_NAME" ]
}

# leaf NAME EKU KEY CERT: a P-256 key and a certificate for NAME signed by the CA.
leaf() {
    tmp=$(mktemp -d)
    printf '%s\n' \
        'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature' \
        "extendedKeyUsage=$2" \
        "subjectAltName=DNS:$1" \
        'subjectKeyIdentifier=hash' \
        'authorityKeyIdentifier=keyid' >"$tmp/ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$tmp/key" -out "$tmp/csr" 2>/dev/null
    openssl x509 -req -in "$tmp/csr" -CA "$DIR/ca.pem" -CAkey "$DIR/private/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$LEAF_DAYS" -sha256 \
        -extfile "$tmp/ext" -out "$tmp/crt" 2>/dev/null
    mv -f "$tmp/key" "$3"
    mv -f "$tmp/crt" "$4"
    rm -rf "$tmp"
}

cmd_init() {
    command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
    install -d -m 0755 "$DIR"
    install -d -m 0700 "$DIR/private" "$DIR/issued"
    if [ ! -s "$DIR/private/ca.key" ] || [ ! -s "$DIR/ca.pem" ]; then
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
            -days "$CA_DAYS" -subj "/CN=safespring-blueprints log CA" \
            -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
            -addext 'keyUsage=critical,keyCertSign,cRLSign' \
            -keyout "$DIR/private/ca.key.new" -out "$DIR/ca.pem.new" 2>/dev/null
        chmod 0600 "$DIR/private/ca.key.new"
        chmod 0644 "$DIR/ca.pem.new"
        mv -f "$DIR/private/ca.key.new" "$DIR/private/ca.key"
        mv -f "$DIR/ca.pem.new" "$DIR/ca.pem"
        rm -f "$DIR/server.pem" "$DIR/server.key"
        echo "ssb-log-pki: created the log CA in $DIR"
    fi
    if [ ! -s "$DIR/server.pem" ] || [ ! -s "$DIR/server.key" ]; then
        leaf "$SERVER_NAME" serverAuth "$DIR/server.key.new" "$DIR/server.pem.new"
        chgrp "$(rsyslog_group)" "$DIR/server.key.new"
        chmod 0640 "$DIR/server.key.new"
        chmod 0644 "$DIR/server.pem.new"
        mv -f "$DIR/server.key.new" "$DIR/server.key"
        mv -f "$DIR/server.pem.new" "$DIR/server.pem"
        echo "ssb-log-pki: created the collector certificate for $SERVER_NAME"
    fi
    apparmor_reload
}

valid_address() {
    printf '%s\n' "$1" | grep -Eqx '([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*'
}

cmd_issue() {
    host=$1
    address=${ADDRESS:-$(hostname -I 2>/dev/null | awk '{print $1}')}
    valid_address "$address" || die "cannot tell the collector's address: give --address ADDR"
    valid_host "$host" || die "'$host' is not a plain lowercase host name (or is reserved)"
    [ -s "$DIR/private/ca.key" ] || die "no CA in $DIR: run 'ssb-log-pki init' on the collector"
    out="$DIR/issued/$host"
    [ ! -e "$out" ] || die "$out exists: copy it or remove it first (one bundle per host)"
    install -d -m 0700 "$out"
    leaf "$host" clientAuth "$out/client.key" "$out/client.pem"
    chmod 0600 "$out/client.key"
    chmod 0644 "$out/client.pem"
    install -m 0644 "$DIR/ca.pem" "$out/ca.pem"
    printf '%s\n' "$address" >"$out/collector-address"
    chmod 0644 "$out/collector-address"
    cat <<MSG
ssb-log-pki: issued a client certificate for $host in $out
Copy the four files to the client over SSH, then on the client run:
    sudo ssb-log-pki install <directory holding ca.pem client.pem client.key collector-address>
and delete $out here and the copy on the client afterwards.
MSG
}

cmd_install() {
    src=$1
    for f in ca.pem client.pem client.key collector-address; do
        [ -s "$src/$f" ] || die "$src/$f is missing"
    done
    address=$(head -n 1 "$src/collector-address")
    valid_address "$address" || die "$src/collector-address does not hold an IP address"
    openssl verify -CAfile "$src/ca.pem" -purpose sslclient "$src/client.pem" >/dev/null 2>&1 \
        || die "client.pem is not a client certificate signed by ca.pem"
    cert_pub=$(openssl x509 -in "$src/client.pem" -noout -pubkey)
    key_pub=$(openssl pkey -in "$src/client.key" -pubout)
    [ "$cert_pub" = "$key_pub" ] || die "client.key does not belong to client.pem"
    install -d -m 0755 "$DIR"
    group=$(rsyslog_group)
    install -m 0640 -o root -g "$group" "$src/client.key" "$DIR/client.key.new"
    install -m 0644 "$src/client.pem" "$DIR/client.pem.new"
    install -m 0644 "$src/ca.pem" "$DIR/ca.pem.new"
    apparmor_reload
    # rsyslog reads the files on its next connection attempt: the queue then drains.
    mv -f "$DIR/client.key.new" "$DIR/client.key"
    mv -f "$DIR/client.pem.new" "$DIR/client.pem"
    mv -f "$DIR/ca.pem.new" "$DIR/ca.pem"
    printf '%s\n' "$address" >"$DIR/collector-address.new"
    chmod 0644 "$DIR/collector-address.new"
    mv -f "$DIR/collector-address.new" "$DIR/collector-address"
    point_hosts "$address"
    echo "ssb-log-pki: installed the log-shipping certificate in $DIR; $SERVER_NAME is $address"
}

# One line, replaced on every call: the collector's name -> its address.
point_hosts() {
    if grep -qxF "$1 $SERVER_NAME $HOSTS_MARK" "$HOSTS" 2>/dev/null; then return 0; fi
    { grep -vF "$HOSTS_MARK" "$HOSTS" 2>/dev/null || true
      printf '%s %s %s\n' "$1" "$SERVER_NAME" "$HOSTS_MARK"; } >"$HOSTS.ssb-new"
    chmod 0644 "$HOSTS.ssb-new"
    mv -f "$HOSTS.ssb-new" "$HOSTS"
}

cmd_hosts() {
    [ -s "$DIR/collector-address" ] || { echo "ssb-log-pki: no collector address installed yet"; return 0; }
    address=$(head -n 1 "$DIR/collector-address")
    valid_address "$address" || die "$DIR/collector-address does not hold an IP address"
    point_hosts "$address"
    echo "ssb-log-pki: $SERVER_NAME is $address in $HOSTS"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
arg=
while [ $# -gt 0 ]; do
    case $1 in
        --dir) [ $# -ge 2 ] || usage; DIR=$2; shift 2 ;;
        --hosts) [ $# -ge 2 ] || usage; HOSTS=$2; shift 2 ;;
        --address) [ $# -ge 2 ] || usage; ADDRESS=$2; shift 2 ;;
        -*) usage ;;
        *) [ -z "$arg" ] || usage; arg=$1; shift ;;
    esac
done
case $DIR in /*) ;; *) die "--dir must be an absolute path" ;; esac

case $cmd in
    init) [ -z "$arg" ] || usage; cmd_init ;;
    issue) [ -n "$arg" ] || usage; cmd_issue "$arg" ;;
    install) [ -n "$arg" ] || usage; cmd_install "$arg" ;;
    hosts) [ -z "$arg" ] || usage; cmd_hosts ;;
    *) usage ;;
esac
