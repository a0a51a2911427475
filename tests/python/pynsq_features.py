"""Publish and consume with pynsq over negotiated connection features.

Usage: pynsq_features.py <nsqd tcp host:port> <topic> <mode>
                         [--ca FILE] [--http HOST:PORT] [--count N]

<mode> is one feature or several joined by '+': tls, snappy, deflate
(e.g. "tls", "snappy", "deflate", "tls+snappy", "tls+deflate"). A Writer
and a Reader are both created with the matching options (tls_v1=True,
snappy=True, deflate=True). With --ca the server certificate is verified
against that CA file, otherwise it is not verified (CERT_NONE).

Prints one JSON object:
  {"published": n, "received": [bodies...], "attempts": [...], "errors": [...],
   "identify": [IDENTIFY responses seen by the connections],
   "conns": [{"role": "writer"|"reader", "tls": bool, "socket": class name}],
   "stats": nsqd's /stats?format=json taken while both connections were open
            (only with --http)}
Exits non-zero if anything fails or takes longer than the deadline.
"""

import argparse
import json
import ssl
import sys
import urllib.request

import nsq
import nsq.client
import tornado.ioloop
import tornado.iostream

parser = argparse.ArgumentParser()
parser.add_argument("tcp_addr")
parser.add_argument("topic")
parser.add_argument("mode")
parser.add_argument("--ca", default=None)
parser.add_argument("--http", default=None)
parser.add_argument("--count", type=int, default=20)
args = parser.parse_args()

FEATURES = set(args.mode.split("+"))
UNKNOWN = FEATURES - {"tls", "snappy", "deflate"}
if UNKNOWN:
    sys.exit("unknown mode part(s): %s" % ", ".join(sorted(UNKNOWN)))
DEADLINE_S = 30

state = {
    "mode": args.mode,
    "published": 0,
    "received": [],
    "attempts": [],
    "errors": [],
    "identify": [],
    "conns": [],
}
loop = tornado.ioloop.IOLoop.current()

# Record every IDENTIFY response a connection reports to its Reader/Writer:
# pynsq silently stays in plaintext when nsqd does not grant a feature, so
# the caller must be able to see what was negotiated.
_orig_identify_response = nsq.client.Client._on_connection_identify_response


def _record_identify_response(self, conn, data, **kwargs):
    state["identify"].append(data)
    return _orig_identify_response(self, conn, data, **kwargs)


nsq.client.Client._on_connection_identify_response = _record_identify_response

_orig_connection_error = nsq.client.Client._on_connection_error


def _record_connection_error(self, conn, error, **kwargs):
    state["errors"].append("connection error: %r" % (error,))
    return _orig_connection_error(self, conn, error, **kwargs)


nsq.client.Client._on_connection_error = _record_connection_error

conn_options = {}
if "tls" in FEATURES:
    conn_options["tls_v1"] = True
    if args.ca:
        conn_options["tls_options"] = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": args.ca}
    else:
        conn_options["tls_options"] = {"cert_reqs": ssl.CERT_NONE}
if "snappy" in FEATURES:
    conn_options["snappy"] = True
if "deflate" in FEATURES:
    conn_options["deflate"] = True
    conn_options["deflate_level"] = 6


def describe_conns(role, client):
    for conn in client.conns.values():
        state["conns"].append(
            {
                "role": role,
                "tls": isinstance(conn.stream, tornado.iostream.SSLIOStream),
                "socket": type(conn.socket).__name__,
            }
        )


def finish(code):
    if "exit_code" in state:
        return
    state["exit_code"] = code
    loop.stop()


def complete():
    describe_conns("writer", writer)
    describe_conns("reader", reader)
    if args.http:
        try:
            url = "http://%s/stats?format=json" % args.http
            with urllib.request.urlopen(url, timeout=10) as resp:
                state["stats"] = json.loads(resp.read().decode())
        except Exception as e:  # reported, not raised: the caller decides
            state["errors"].append("stats: %r" % (e,))
    finish(0)


def on_message(message):
    state["received"].append(message.body.decode())
    state["attempts"].append(message.attempts)
    message.finish()
    if len(state["received"]) >= args.count:
        loop.add_callback(complete)
    return True


def on_published(conn, data):
    if isinstance(data, nsq.Error) or data != b"OK":
        state["errors"].append(str(data))
        return
    state["published"] += 1
    if state["published"] < args.count:
        publish_next()


writer = nsq.Writer([args.tcp_addr], **conn_options)


def publish_next():
    # A compressible body, long enough to span several frames per batch.
    body = ("msg-%d " % state["published"]) + "x" * 2000
    writer.pub(args.topic, body.encode(), callback=on_published)


def start_publishing():
    # Wait until the writer's connection finished its upgrades.
    if not writer.conns:
        loop.call_later(0.05, start_publishing)
        return
    publish_next()


reader = nsq.Reader(
    message_handler=on_message,
    nsqd_tcp_addresses=[args.tcp_addr],
    topic=args.topic,
    channel="py",
    max_in_flight=10,
    **conn_options
)

loop.call_later(0.5, start_publishing)
loop.call_later(DEADLINE_S, finish, 2)
loop.start()
print(json.dumps(state))
sys.exit(state.get("exit_code", 1))
