#!/bin/sh
# Plays the device of device cases with mosquitto_pub / mosquitto_sub:
# turns a case's abstract trigger into a client command.
#
# Usage (as `mqttspec serve --exec`):
#   sh tests/device/mosquitto-clients.sh [TLS…] {host} {port} {client_id} {topic} {trigger}
# Triggers: "publish qos=N", "subscribe qos=N", each optionally with
# "keepalive=S", "user=U" and "pass=P".
# TLS (for mqtts:// listeners), before the host: --cafile FILE (the CA of
# the suite's certificate), --cert FILE --key FILE (the client certificate).
tls=""
while :; do
    case $1 in
        --cafile|--cert|--key) tls="$tls $1 $2"; shift 2 ;;
        *) break ;;
    esac
done
host=$1 port=$2 id=$3 topic=$4
shift 4
trigger="$*"
action=$1
qos=0
keepalive=60
for word in "$@"; do
    case $word in
        qos=*) qos=${word#qos=} ;;
        keepalive=*) keepalive=${word#keepalive=} ;;
        user=*) user=${word#user=} ;;
        pass=*) pass=${word#pass=} ;;
    esac
done
# User name and password, when the trigger gives them.
set -- -h "$host" -p "$port" -i "$id" -q "$qos" -k "$keepalive"
[ -n "${user:-}" ] && set -- "$@" -u "$user"
[ -n "${pass:-}" ] && set -- "$@" -P "$pass"
case $action in
    # $tls is split into words on purpose: options and file names without spaces.
    publish) exec mosquitto_pub $tls "$@" -t "$topic/a" -m x ;;
    subscribe) exec mosquitto_sub $tls "$@" -t "$topic/#" ;;
    *) echo "unknown trigger: $trigger" >&2; exit 2 ;;
esac
