"""Plays the device of device cases with the Eclipse Paho Python client
(paho-mqtt 1.x or 2.x): turns a case's abstract trigger into client calls.

Usage (as `mqttspec serve --exec`):
  /usr/bin/python3 tests/device/paho-client.py [OPTIONS…] {host} {port} {client_id} {topic} {trigger}
Triggers: "publish qos=N", "subscribe qos=N", "unsubscribe qos=N"
(subscribe to {topic}/#, then unsubscribe from it at once), each
optionally with "count=N" (publish N messages), "retain", "keepalive=S",
"user=U", "pass=P", "clean=0" (persistent session), "v5" (MQTT 5.0) and
"reconnect" (the device must reconnect when the connection drops and go
on; the client's network loop does that by itself); see the README.
Options, before the host: --cafile FILE (TLS, trusting the CA of the
suite's certificate), --cert FILE --key FILE (a client certificate),
--websockets (MQTT over WebSocket, path /mqtt).
"""
import queue
import sys
import threading

import paho.mqtt.client as mqtt


def client(client_id, v5, clean, transport):
    kwargs = {"client_id": client_id, "transport": transport}
    if v5:
        kwargs["protocol"] = mqtt.MQTTv5
    else:
        kwargs["clean_session"] = clean
    # paho-mqtt 2.x asks which callback signatures the program uses.
    if hasattr(mqtt, "CallbackAPIVersion"):
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, **kwargs)
    return mqtt.Client(**kwargs)


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
    v5 = "v5" in words
    clean = trig.get("clean", "1") != "0"
    c = client(client_id, v5, clean, "websockets" if "websockets" in opts else "tcp")
    if "cafile" in opts:
        c.tls_set(ca_certs=opts["cafile"], certfile=opts.get("cert"), keyfile=opts.get("key"))
    if "user" in trig:
        c.username_pw_set(trig["user"], trig.get("pass"))

    def connect():
        if v5:
            c.connect(host, port, keepalive, clean_start=clean)
        else:
            c.connect(host, port, keepalive)

    if action == "publish":
        # Publish once connected, as an application does: the CONNACK (and,
        # in 5.0, the limits it sets) is known by then.
        connack = queue.Queue()
        c.on_connect = lambda cl, userdata, flags, rc, *_: connack.put(rc)
        connect()
        c.loop_start()
        if connack.get() != 0:
            # Refused: the library decides what happens to the connection.
            threading.Event().wait()
        count = int(trig.get("count", "1"))
        retain = "retain" in words
        sent = [c.publish(topic + "/a", b"x", qos=qos, retain=retain) for _ in range(count)]
        for info in sent:
            info.wait_for_publish()
        c.disconnect()
        c.loop_stop()
    elif action in ("subscribe", "unsubscribe"):
        def on_connect(cl, *_):
            cl.subscribe(topic + "/#", qos)
            if action == "unsubscribe":
                cl.unsubscribe(topic + "/#")

        c.on_connect = on_connect
        connect()
        c.loop_forever()
    else:
        sys.exit("unknown trigger: " + " ".join(args[4:]))


main()
