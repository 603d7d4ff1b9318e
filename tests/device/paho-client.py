"""Plays the device of device cases with the Eclipse Paho Python client
(paho-mqtt 1.x or 2.x): turns a case's abstract trigger into client calls.

Usage (as `mqttspec serve --exec`):
  /usr/bin/python3 tests/device/paho-client.py [OPTIONS…] {host} {port} {client_id} {topic} {trigger}
Triggers: "publish qos=N", "subscribe qos=N", each optionally with
"keepalive=S", "user=U" and "pass=P".
Options, before the host: --cafile FILE (TLS, trusting the CA of the
suite's certificate), --cert FILE --key FILE (a client certificate),
--websockets (MQTT over WebSocket, path /mqtt).
"""
import sys

import paho.mqtt.client as mqtt


def client(client_id, transport):
    # paho-mqtt 2.x asks which callback signatures the program uses.
    if hasattr(mqtt, "CallbackAPIVersion"):
        return mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, transport=transport
        )
    return mqtt.Client(client_id=client_id, transport=transport)


def options(args):
    """Leading --name [value] options, and the rest of the arguments."""
    opts = {}
    while args and args[0].startswith("--"):
        name = args.pop(0)[2:]
        opts[name] = True if name == "websockets" else args.pop(0)
    return opts, args


def main():
    opts, args = options(sys.argv[1:])
    host, port, client_id, topic = args[0], int(args[1]), args[2], args[3]
    action, words = args[4], args[5:]
    trig = dict(w.split("=", 1) for w in words if "=" in w)
    qos = int(trig.get("qos", "0"))
    keepalive = int(trig.get("keepalive", "60"))
    c = client(client_id, "websockets" if "websockets" in opts else "tcp")
    if "cafile" in opts:
        c.tls_set(ca_certs=opts["cafile"], certfile=opts.get("cert"), keyfile=opts.get("key"))
    if "user" in trig:
        c.username_pw_set(trig["user"], trig.get("pass"))
    if action == "publish":
        c.connect(host, port, keepalive)
        c.loop_start()
        info = c.publish(topic + "/a", b"x", qos=qos)
        info.wait_for_publish()
        c.disconnect()
        c.loop_stop()
    elif action == "subscribe":
        c.on_connect = lambda cl, userdata, flags, rc: cl.subscribe(topic + "/#", qos)
        c.connect(host, port, keepalive)
        c.loop_forever()
    else:
        sys.exit("unknown trigger: " + " ".join(args[4:]))


main()
