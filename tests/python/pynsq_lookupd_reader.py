"""Consume a topic with pynsq's Reader discovering nsqd through nsqlookupd.

Usage: pynsq_lookupd_reader.py <lookupd http host:port> <topic> <count>
Prints one JSON object: {"received": [bodies...]}; exits 0 once <count>
messages arrived, 2 after the deadline.
"""

import json
import sys

import nsq
import tornado.ioloop

LOOKUPD, TOPIC, COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3])
DEADLINE_S = 30

state = {"received": []}
loop = tornado.ioloop.IOLoop.current()


def finish(code):
    state["exit_code"] = code
    loop.stop()


def on_message(message):
    state["received"].append(message.body.decode())
    message.finish()
    if len(state["received"]) >= COUNT:
        loop.add_callback(finish, 0)
    return True


reader = nsq.Reader(
    message_handler=on_message,
    lookupd_http_addresses=["http://" + LOOKUPD],
    lookupd_poll_interval=1,
    lookupd_poll_jitter=0.0,
    topic=TOPIC,
    channel="py",
    max_in_flight=10,
)

loop.call_later(DEADLINE_S, finish, 2)
loop.start()
print(json.dumps(state))
sys.exit(state.get("exit_code", 1))
