#!/bin/sh
# ssb-log-pki: the private CA that authenticates log shipping (safespring-blueprints).
#
# No secret is ever part of the blueprint or the Terraform state: the CA key is created on the
# log collector at first boot and never leaves it. Clients get a certificate only when an
# administrator issues one here and copies it to them; until then they log locally and queue.
#
#   ssb-log-pki init [--dir DIR]             collector, first boot: CA, its database and CRL, the
#                                            collector certificate (existing keys are kept)
#   ssb-log-pki issue HOST [--dir DIR] [--address ADDR] [--client-address ADDR]
#                                            collector: a client bundle for HOST in DIR/issued/HOST/
#                                            {ca.pem,client.pem,client.key,collector-address}
#   ssb-log-pki revoke HOST [--dir DIR]      collector: revoke HOST's certificates (CRL) and
#                                            stop accepting them
#   ssb-log-pki refresh [--dir DIR]          collector, daily: expire, new CRL, renew the
#                                            collector certificate when it is due
#   ssb-log-pki sign HOST --peer ADDR --serial HEX [--dir DIR]
#                                            collector (the renewal service): a new certificate
#                                            for HOST from the CSR on stdin
#   ssb-log-pki install BUNDLE [--dir DIR] [--hosts FILE]
#                                            client: check a copied bundle, put it in place and
#                                            point the collector's name at its address
#   ssb-log-pki renew [--dir DIR] [--port PORT] [--source ADDR]
#                                            client, daily: a new key and certificate from the
#                                            collector's renewal service when the current one
#                                            has less than RENEW_DAYS left
#   ssb-log-pki hosts [--dir DIR] [--hosts FILE]
#                                            client, every boot (ssb-log-hosts.service): put the
#                                            collector's address back into FILE
#
# Lifetimes: client certificates CLIENT_DAYS, renewed by the client itself (ssb-log-renew.timer)
# from RENEW_DAYS before their end, over mutual TLS with the certificate it still holds, from the
# address the certificate is bound to (--client-address at issue, else the first renewal's);
# the collector certificate SERVER_DAYS, renewed here by `refresh`; the CA CA_DAYS.
#
# Revocation: `revoke` puts HOST's certificates on the CA's CRL (DIR/crl.pem), which the renewal
# service reads. The listener (rsyslog's gtls) trusts DIR/clients.pem: the certificates issued
# and neither revoked nor expired, and nothing else (rsyslog 8.2302, Debian 12's, cannot read a
# CRL; a certificate in the trust list is accepted as it is). Every change of it restarts the
# listener (ssb-log-collector.service), which is what makes it take effect.
#
# The bundle carries the collector's address (default: its first IPv4 address) because the
# address exists only once the collector runs; `install` writes it to /etc/hosts (--hosts) under
# the fixed name the collector's certificate carries, so no address is baked into a blueprint.
# It also keeps the address in DIR/collector-address: images whose cloud-init manages
# /etc/hosts (Debian's) rewrite the file at every boot, and `hosts` then puts the line back.
# DIR defaults to /etc/safespring-blueprints/logging. Layout on the collector:
#   ca.pem, crl.pem, clients.pem, server.pem (0644), server.key (0640, group rsyslog runs as),
#   private/ca.key (0600) and private/db/ (the CA database) in a 0700 directory rsyslog may not
#   read.
# Layout on a client: ca.pem, client.pem (0644), client.key (0640, group rsyslog runs as).
set -eu
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# The name every client requires of the collector (rsyslog x509/name); never issued to clients.
SERVER_NAME=collector.logging.safespring-blueprints.internal
CA_DAYS=3650
SERVER_DAYS=90
CLIENT_DAYS=30
RENEW_DAYS=${SSB_LOG_PKI_RENEW_DAYS:-10}
CRL_DAYS=7
RENEW_PORT=6515
DIR=/etc/safespring-blueprints/logging
HOSTS=/etc/hosts
ADDRESS=
CLIENT_ADDRESS=
PEER=
SERIAL=
PORT=$RENEW_PORT
SOURCE=
HOSTS_MARK='# safespring-blueprints: log collector'
PROFILE=/etc/apparmor.d/usr.sbin.rsyslogd

die() { echo "ssb-log-pki: $*" >&2; exit 1; }

usage() {
    sed -n '8,31p' "$0" | sed 's/^# \{0,1\}//' >&2
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

valid_address() {
    printf '%s\n' "$1" | grep -Eqx '([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*'
}

DB="$DIR/private/db"

# The openssl ca configuration of the CA database (written by init, paths of this DIR).
ca_config() {
    cat <<CNF
[ ca ]
default_ca = ssb
[ ssb ]
database = $DB/index.txt
new_certs_dir = $DB/certs
serial = $DB/serial
crlnumber = $DB/crlnumber
certificate = $DIR/ca.pem
private_key = $DIR/private/ca.key
default_md = sha256
default_crl_days = $CRL_DAYS
policy = ssb_policy
unique_subject = no
copy_extensions = none
email_in_dn = no
[ ssb_policy ]
commonName = supplied
CNF
}

# sign_csr CSR NAME EKU DAYS OUT [IP]: a certificate for NAME from CSR's key, recorded in the
# database (the subject and extensions are ours; of the CSR only its key is used).
sign_csr() {
    ext=$(mktemp)
    san="DNS:$2"
    if [ -n "${6:-}" ]; then san="$san,IP:$6"; fi
    printf '%s\n' \
        'basicConstraints=critical,CA:FALSE' \
        'keyUsage=critical,digitalSignature' \
        "extendedKeyUsage=$3" \
        "subjectAltName=$san" \
        'subjectKeyIdentifier=hash' \
        'authorityKeyIdentifier=keyid' >"$ext"
    openssl ca -batch -config "$DB/openssl.cnf" -in "$1" -subj "/CN=$2" -days "$4" \
        -extfile "$ext" -notext -out "$5" 2>"$ext.err" \
        || { cat "$ext.err" >&2; rm -f "$ext" "$ext.err"; die "could not sign for $2"; }
    rm -f "$ext" "$ext.err"
}

# leaf NAME EKU DAYS KEY CERT [IP]: a new P-256 key and its certificate for NAME.
leaf() {
    tmp=$(mktemp -d)
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$tmp/key" -out "$tmp/csr" 2>/dev/null
    sign_csr "$tmp/csr" "$1" "$2" "$3" "$tmp/crt" "${6:-}"
    mv -f "$tmp/key" "$4"
    mv -f "$tmp/crt" "$5"
    rm -rf "$tmp"
}

gencrl() {
    openssl ca -config "$DB/openssl.cnf" -gencrl -out "$DIR/crl.pem.new" 2>/dev/null \
        || die "could not write the CRL"
    chmod 0644 "$DIR/crl.pem.new"
    mv -f "$DIR/crl.pem.new" "$DIR/crl.pem"
}

# The listener's trust list: every client certificate that is valid (status V) in the database
# and has not expired. With none yet, the collector's own certificate stands in (a file rsyslog
# can load; no client can present it: it is not for client authentication).
trust_list() {
    openssl ca -config "$DB/openssl.cnf" -updatedb >/dev/null 2>&1 || true
    out="$DIR/clients.pem.new"
    : >"$out"
    awk -F '\t' '$1 == "V" && $6 != "/CN='"$SERVER_NAME"'" { print $4 }' "$DB/index.txt" |
    while read -r serial; do
        cert="$DB/certs/$serial.pem"
        if [ -s "$cert" ] && openssl x509 -in "$cert" -noout -checkend 0 >/dev/null 2>&1; then
            openssl x509 -in "$cert" >>"$out"
        fi
    done
    [ -s "$out" ] || cat "$DIR/server.pem" >"$out"
    chmod 0644 "$out"
    if cmp -s "$out" "$DIR/clients.pem" 2>/dev/null; then rm -f "$out"; return 1; fi
    mv -f "$out" "$DIR/clients.pem"
    return 0
}

# A changed trust list takes effect when the listener restarts (clients reconnect and resend).
restart_listener() {
    [ -z "${SSB_LOG_PKI_NO_RESTART:-}" ] || return 0
    command -v systemctl >/dev/null 2>&1 || return 0
    systemctl try-restart ssb-log-collector.service \
        || echo "ssb-log-pki: warning: could not restart ssb-log-collector.service" >&2
}

update_trust() {
    if trust_list; then
        echo "ssb-log-pki: the listener now trusts $(grep -c 'BEGIN CERTIFICATE' "$DIR/clients.pem") certificate(s)"
        restart_listener
    fi
}

cmd_init() {
    command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
    install -d -m 0755 "$DIR"
    install -d -m 0700 "$DIR/private" "$DIR/issued" "$DB" "$DB/certs" "$DB/clients"
    [ -e "$DB/index.txt" ] || : >"$DB/index.txt"
    [ -s "$DB/serial" ] || openssl rand -hex 16 >"$DB/serial"
    [ -s "$DB/crlnumber" ] || echo 1000 >"$DB/crlnumber"
    ca_config >"$DB/openssl.cnf"
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
        server_cert
    fi
    [ -s "$DIR/crl.pem" ] || gencrl
    # Only where there is none yet: a changed list must go with a listener restart (refresh).
    [ -s "$DIR/clients.pem" ] || trust_list || true
    apparmor_reload
}

server_cert() {
    leaf "$SERVER_NAME" serverAuth "$SERVER_DAYS" "$DIR/server.key.new" "$DIR/server.pem.new"
    chgrp "$(rsyslog_group)" "$DIR/server.key.new"
    chmod 0640 "$DIR/server.key.new"
    chmod 0644 "$DIR/server.pem.new"
    mv -f "$DIR/server.key.new" "$DIR/server.key"
    mv -f "$DIR/server.pem.new" "$DIR/server.pem"
    echo "ssb-log-pki: created the collector certificate for $SERVER_NAME ($SERVER_DAYS days)"
}

need_ca() {
    [ -s "$DIR/private/ca.key" ] && [ -s "$DB/openssl.cnf" ] \
        || die "no CA in $DIR: run 'ssb-log-pki init' on the collector"
}

cmd_issue() {
    host=$1
    address=${ADDRESS:-$(hostname -I 2>/dev/null | awk '{print $1}')}
    valid_address "$address" || die "cannot tell the collector's address: give --address ADDR"
    valid_host "$host" || die "'$host' is not a plain lowercase host name (or is reserved)"
    if [ -n "$CLIENT_ADDRESS" ]; then
        valid_address "$CLIENT_ADDRESS" || die "--client-address must be an IP address"
    fi
    need_ca
    out="$DIR/issued/$host"
    [ ! -e "$out" ] || die "$out exists: copy it or remove it first (one bundle per host)"
    install -d -m 0700 "$out"
    leaf "$host" clientAuth "$CLIENT_DAYS" "$out/client.key" "$out/client.pem" "$CLIENT_ADDRESS"
    chmod 0600 "$out/client.key"
    chmod 0644 "$out/client.pem"
    install -m 0644 "$DIR/ca.pem" "$out/ca.pem"
    printf '%s\n' "$address" >"$out/collector-address"
    chmod 0644 "$out/collector-address"
    if [ -n "$CLIENT_ADDRESS" ]; then
        printf '%s\n' "$CLIENT_ADDRESS" >"$DB/clients/$host"
    else
        rm -f "$DB/clients/$host"  # bound to the address of its first renewal
    fi
    update_trust
    cat <<MSG
ssb-log-pki: issued a client certificate for $host in $out ($CLIENT_DAYS days; the client renews it)
Copy the four files to the client over SSH, then on the client run:
    sudo ssb-log-pki install <directory holding ca.pem client.pem client.key collector-address>
and delete $out here and the copy on the client afterwards.
MSG
}

# Serials of HOST's certificates that are still valid in the database.
valid_serials() {
    awk -F '\t' -v cn="/CN=$1" '$1 == "V" && $6 == cn { print $4 }' "$DB/index.txt"
}

cmd_revoke() {
    host=$1
    valid_host "$host" || die "'$host' is not a plain lowercase host name"
    need_ca
    found=
    for serial in $(valid_serials "$host"); do
        openssl ca -config "$DB/openssl.cnf" -revoke "$DB/certs/$serial.pem" 2>/dev/null \
            || die "could not revoke $serial"
        found=yes
        echo "ssb-log-pki: revoked $host's certificate $serial"
    done
    [ -n "$found" ] || die "no valid certificate of $host to revoke"
    rm -f "$DB/clients/$host"
    gencrl
    update_trust
}

cmd_refresh() {
    need_ca
    if ! openssl x509 -in "$DIR/server.pem" -noout -checkend $((SERVER_DAYS / 3 * 86400)) \
            >/dev/null 2>&1; then
        server_cert
        restart_listener
    fi
    gencrl
    update_trust || true
}

# The renewal service's step, after it checked the caller's certificate against ca.pem and
# crl.pem: HOST's certificate SERIAL must still be valid here, and the call come from HOST's
# address. The new certificate goes to stdout.
cmd_sign() {
    host=$1
    valid_host "$host" || die "'$host' is not a plain lowercase host name"
    valid_address "$PEER" || die "--peer must be an IP address"
    printf '%s\n' "$SERIAL" | grep -Eqx '[0-9A-Fa-f]{2,64}' || die "--serial must be hex"
    need_ca
    serial=$(printf '%s' "$SERIAL" | tr 'a-f' 'A-F')
    valid_serials "$host" | grep -qx "$serial" \
        || die "$host's certificate $serial is not valid here (revoked, expired or unknown)"
    if [ -s "$DB/clients/$host" ]; then
        bound=$(head -n 1 "$DB/clients/$host")
        [ "$bound" = "$PEER" ] || die "$host is bound to $bound, not $PEER: not renewed"
    else
        printf '%s\n' "$PEER" >"$DB/clients/$host"
        echo "ssb-log-pki: $host is bound to $PEER from now on" >&2
    fi
    tmp=$(mktemp -d)
    head -c 8192 >"$tmp/csr"
    openssl req -in "$tmp/csr" -noout -verify >/dev/null 2>&1 \
        || { rm -rf "$tmp"; die "the request is not a valid certificate signing request"; }
    sign_csr "$tmp/csr" "$host" clientAuth "$CLIENT_DAYS" "$tmp/crt" "$PEER"
    update_trust >&2
    cat "$tmp/crt"
    rm -rf "$tmp"
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

cmd_renew() {
    if [ ! -s "$DIR/client.pem" ] || [ ! -s "$DIR/collector-address" ]; then
        echo "ssb-log-pki: no certificate installed yet: nothing to renew"
        return 0
    fi
    if openssl x509 -in "$DIR/client.pem" -noout -checkend $((RENEW_DAYS * 86400)) >/dev/null; then
        echo "ssb-log-pki: the certificate is valid for more than $RENEW_DAYS days"
        return 0
    fi
    command -v curl >/dev/null 2>&1 || die "curl is not installed"
    address=$(head -n 1 "$DIR/collector-address")
    valid_address "$address" || die "$DIR/collector-address does not hold an IP address"
    name=$(openssl x509 -in "$DIR/client.pem" -noout -subject -nameopt multiline |
        sed -n 's/^ *commonName *= *//p')
    valid_host "$name" || die "client.pem's name '$name' is not a host name"
    tmp=$(mktemp -d)
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
        -keyout "$tmp/key" -out "$tmp/csr" 2>/dev/null
    case $address in *:*) connect="[$address]" ;; *) connect=$address ;; esac
    # The collector's name as its certificate says, at the address the bundle gave.
    if ! curl --fail --silent --show-error --max-time 60 --noproxy '*' --cacert "$DIR/ca.pem" \
            --cert "$DIR/client.pem" --key "$DIR/client.key" \
            ${SOURCE:+--interface "$SOURCE"} \
            --resolve "$SERVER_NAME:$PORT:$connect" -H 'Content-Type: application/pkcs10' \
            --data-binary @"$tmp/csr" -o "$tmp/crt" "https://$SERVER_NAME:$PORT/renew"; then
        rm -rf "$tmp"
        die "the collector did not renew the certificate (it ends $(openssl x509 -in \
"$DIR/client.pem" -noout -enddate | cut -d= -f2))"
    fi
    openssl verify -CAfile "$DIR/ca.pem" -purpose sslclient "$tmp/crt" >/dev/null 2>&1 \
        || { rm -rf "$tmp"; die "the renewed certificate is not a client certificate of ca.pem"; }
    [ "$(openssl x509 -in "$tmp/crt" -noout -pubkey)" = "$(openssl pkey -in "$tmp/key" -pubout)" ] \
        || { rm -rf "$tmp"; die "the renewed certificate is not for the new key"; }
    group=$(rsyslog_group)
    install -m 0640 -o root -g "$group" "$tmp/key" "$DIR/client.key.new"
    install -m 0644 "$tmp/crt" "$DIR/client.pem.new"
    mv -f "$DIR/client.key.new" "$DIR/client.key"
    mv -f "$DIR/client.pem.new" "$DIR/client.pem"
    rm -rf "$tmp"
    echo "ssb-log-pki: renewed: $(openssl x509 -in "$DIR/client.pem" -noout -enddate)"
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
        --client-address) [ $# -ge 2 ] || usage; CLIENT_ADDRESS=$2; shift 2 ;;
        --peer) [ $# -ge 2 ] || usage; PEER=$2; shift 2 ;;
        --serial) [ $# -ge 2 ] || usage; SERIAL=$2; shift 2 ;;
        --port) [ $# -ge 2 ] || usage; PORT=$2; shift 2 ;;
        --source) [ $# -ge 2 ] || usage; SOURCE=$2; shift 2 ;;
        -*) usage ;;
        *) [ -z "$arg" ] || usage; arg=$1; shift ;;
    esac
done
case $DIR in /*) ;; *) die "--dir must be an absolute path" ;; esac
DB="$DIR/private/db"
printf '%s\n' "$PORT" | grep -Eqx '[0-9]{1,5}' || die "--port must be a port number"
printf '%s\n' "$RENEW_DAYS" | grep -Eqx '[0-9]{1,4}' || die "SSB_LOG_PKI_RENEW_DAYS must be a number"

case $cmd in
    init) [ -z "$arg" ] || usage; cmd_init ;;
    issue) [ -n "$arg" ] || usage; cmd_issue "$arg" ;;
    revoke) [ -n "$arg" ] || usage; cmd_revoke "$arg" ;;
    refresh) [ -z "$arg" ] || usage; cmd_refresh ;;
    sign) [ -n "$arg" ] || usage; cmd_sign "$arg" ;;
    install) [ -n "$arg" ] || usage; cmd_install "$arg" ;;
    renew) [ -z "$arg" ] || usage; cmd_renew ;;
    hosts) [ -z "$arg" ] || usage; cmd_hosts ;;
    *) usage ;;
esac
