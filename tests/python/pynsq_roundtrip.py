"""Publish with pynsq's Writer and consume with its Reader against a running nsqd.

Usage: pynsq_roundtrip.py <nsqd tcp host:port> <topic> <count>
Prints one JSON object: {"published": n, "received": [bodies...], "attempts": [...]}.
Exits non-zero if anything fails or takes longer than the deadline.
"""

import json
import sys

import nsq
import tornado.ioloop

TCP_ADDR, TOPIC, COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3])
DEADLINE_S = 30

state = {"published": 0, "received": [], "attempts": [], "errors": []}
loop = tornado.ioloop.IOLoop.current()


def finish(code):
    state["exit_code"] = code
    loop.stop()


def on_message(message):
    state["received"].append(message.body.decode())
    state["attempts"].append(message.attempts)
    message.finish()
    if len(state["received"]) >= COUNT:
        loop.add_callback(finish, 0)
    return True


def on_published(conn, data):
    if isinstance(data, nsq.Error) or data != b"OK":
        state["errors"].append(str(data))
        return
    state["published"] += 1
    if state["published"] < COUNT:
        publish_next()


writer = nsq.Writer([TCP_ADDR])


def publish_next():
    writer.pub(TOPIC, ("msg-%d" % state["published"]).encode(), callback=on_published)


reader = nsq.Reader(
    message_handler=on_message,
    nsqd_tcp_addresses=[TCP_ADDR],
    topic=TOPIC,
    channel="py",
    max_in_flight=10,
)

loop.call_later(1.0, publish_next)
loop.call_later(DEADLINE_S, finish, 2)
loop.start()
print(json.dumps(state))
sys.exit(state.get("exit_code", 1))
