"""Plays the device of device cases with the Eclipse Paho Python client
(paho-mqtt 1.x or 2.x): turns a case's abstract trigger into client calls.

Usage (as `mqttspec serve --exec`):
  /usr/bin/python3 tests/device/paho-client.py {host} {port} {client_id} {topic} {trigger}
Triggers: "publish qos=N", "subscribe qos=N", each optionally with
"keepalive=S", "user=U" and "pass=P".
"""
import sys

import paho.mqtt.client as mqtt


def client(client_id):
    # paho-mqtt 2.x asks which callback signatures the program uses.
    if hasattr(mqtt, "CallbackAPIVersion"):
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id)
    return mqtt.Client(client_id=client_id)


def main():
    host, port, client_id, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    action, words = sys.argv[5], sys.argv[6:]
    opts = dict(w.split("=", 1) for w in words if "=" in w)
    qos = int(opts.get("qos", "0"))
    keepalive = int(opts.get("keepalive", "60"))
    c = client(client_id)
    if "user" in opts:
        c.username_pw_set(opts["user"], opts.get("pass"))
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
        sys.exit("unknown trigger: " + " ".join(sys.argv[5:]))


main()
