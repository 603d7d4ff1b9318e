#!/bin/sh
# Plays the device of device cases with mosquitto_pub / mosquitto_sub:
# turns a case's abstract trigger into a client command.
#
# Usage (as `mqttspec serve --exec`):
#   sh tests/device/mosquitto-clients.sh [TLS…] {host} {port} {client_id} {topic} {trigger}
# Triggers: "publish qos=N", "subscribe qos=N", "unsubscribe qos=N"
# (subscribe to {topic}/#, then unsubscribe from it at once), each
# optionally with "count=N" (publish N messages), "retain", "keepalive=S",
# "user=U", "pass=P", "clean=0" (persistent session), "v5" (MQTT 5.0) and
# "reconnect" (the device must reconnect when the connection drops and go
# on); see the README.
# TLS (for mqtts:// listeners), before the host: --cafile FILE (the CA of
# the suite's certificate), --cert FILE --key FILE (the client certificate).
#
# mosquitto_pub exits when its connection is lost, so it cannot play
# "publish … reconnect": the script then exits with status 77 before
# connecting, which `mqttspec serve` reports as the case not applicable
# (skipped), with the reason given on stderr.
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
        clean=0) persistent=1 ;;
        v5) v5=1 ;;
        reconnect) reconnect=1 ;;
        count=*) count=${word#count=} ;;
        retain) retain=1 ;;
    esac
done
set -- -h "$host" -p "$port" -i "$id" -q "$qos" -k "$keepalive"
# User name and password, when the trigger gives them.
[ -n "${user:-}" ] && set -- "$@" -u "$user"
[ -n "${pass:-}" ] && set -- "$@" -P "$pass"
[ -n "${persistent:-}" ] && set -- "$@" -c
[ -n "${v5:-}" ] && set -- "$@" -V mqttv5
[ -n "${retain:-}" ] && [ "$action" = publish ] && set -- "$@" -r
case $action in
    # $tls is split into words on purpose: options and file names without spaces.
    publish)
        if [ -n "${reconnect:-}" ]; then
            echo "mosquitto_pub exits when its connection is lost: it cannot reconnect" >&2
            exit 77
        fi
        exec mosquitto_pub $tls "$@" -t "$topic/a" -m x --repeat "${count:-1}" ;;
    subscribe) exec mosquitto_sub $tls "$@" -t "$topic/#" ;;
    unsubscribe) exec mosquitto_sub $tls "$@" -t "$topic/#" -U "$topic/#" ;;
    *) echo "unknown trigger: $trigger" >&2; exit 2 ;;
esac
