"""A small Depot client, written from docs/protocol.md alone.

Standard library plus Debian's python3-zmq (run it with /usr/bin/python3). One `Session` is one DEALER
connection: HELLO, pipelined PUBLISH with confirms (single and cumulative), CONSUME/DELIVER (DELIVER_BATCH when
HELLO asks for it), ACK/NACK with or without a request id, ADMIN operations, heartbeats in both directions and
ERROR frames as `DepotError`.

The session is single-threaded: nothing happens between calls. Every call that waits (`wait_confirms`,
`request`, `next_delivery`, `pump`) reads whatever the broker sent, dispatches it, and sends a HEARTBEAT when
the client has sent nothing else for `heartbeatMs`. A caller that wants to fall silent simply makes no call.
"""

import collections
import json
import struct
import time

import zmq

PROTOCOL_VERSION = 1
ENVELOPE = struct.Struct("<BBHQ")  # version, command, flags, request id: 12 bytes

HELLO = 0x01
REPLY = 0x02
ERROR = 0x03
HEARTBEAT = 0x04
BYE = 0x05
PUBLISH = 0x10
CONFIRM = 0x11
TX_END = 0x12
TX_CHECK = 0x13
CONSUME = 0x20
CANCEL = 0x21
DELIVER = 0x22
ACK = 0x23
NACK = 0x24
DELIVER_BATCH = 0x25
ADMIN = 0x30

COMMAND_NAMES = {
    HELLO: "HELLO", REPLY: "REPLY", ERROR: "ERROR", HEARTBEAT: "HEARTBEAT", BYE: "BYE", PUBLISH: "PUBLISH",
    CONFIRM: "CONFIRM", TX_END: "TX_END", TX_CHECK: "TX_CHECK", CONSUME: "CONSUME", CANCEL: "CANCEL",
    DELIVER: "DELIVER", ACK: "ACK", NACK: "NACK", DELIVER_BATCH: "DELIVER_BATCH", ADMIN: "ADMIN",
}

PUBLISH_ONEWAY = 0x0001  # envelope flag of PUBLISH
CONFIRM_CUMULATIVE = 0x0001  # envelope flag of CONFIRM

MSG_PERSISTENT = 0x01  # PUBLISH header flags
MSG_TTL = 0x02
MSG_DELAY = 0x04

DELIVER_REDELIVERED = 0x01  # DELIVER header flags
DELIVER_DEATH = 0x02

OUTCOMES = {0: "confirmed", 1: "duplicate", 2: "nacked"}


class DepotError(Exception):
    """An ERROR frame: `code` is one of the codes of docs/protocol.md."""

    def __init__(self, code, message, request_id):
        super().__init__("%s: %s (request %d)" % (code, message, request_id))
        self.code = code
        self.message = message
        self.request_id = request_id


class ProtocolViolation(Exception):
    """The broker sent something docs/protocol.md does not allow."""


class ConnectionLost(Exception):
    """Nothing heard from the broker for 3 x heartbeatMs."""


class Timeout(Exception):
    """A caller's deadline passed."""


# --- binary header codec --------------------------------------------------------------------------------------


class Writer:
    def __init__(self):
        self.parts = []

    def u8(self, v):
        self.parts.append(struct.pack("<B", v))
        return self

    def u16(self, v):
        self.parts.append(struct.pack("<H", v))
        return self

    def u32(self, v):
        self.parts.append(struct.pack("<I", v))
        return self

    def u64(self, v):
        self.parts.append(struct.pack("<Q", v))
        return self

    def i64(self, v):
        self.parts.append(struct.pack("<q", v))
        return self

    def str(self, v):
        data = v.encode("utf-8") if isinstance(v, str) else bytes(v)
        self.u32(len(data))
        self.parts.append(data)
        return self

    def headers(self, pairs):
        pairs = list(pairs)
        self.u32(len(pairs))
        for name, value in pairs:
            self.str(name).str(value)
        return self

    def bytes(self):
        return b"".join(self.parts)


class Reader:
    """Reads a binary header; `finish()` insists it was consumed exactly."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ProtocolViolation("binary header too short: need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u8(self):
        return self._take(1)[0]

    def u32(self):
        return struct.unpack("<I", self._take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self._take(8))[0]

    def i64(self):
        return struct.unpack("<q", self._take(8))[0]

    def raw(self):
        return self._take(self.u32())

    def text(self):
        return self.raw().decode("utf-8")

    def headers(self):
        # Names are UTF-8 text; values may be any bytes, so they stay bytes unless they decode.
        pairs = []
        for _ in range(self.u32()):
            name = self.text()
            value = self.raw()
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                pass
            pairs.append((name, value))
        return pairs

    def finish(self):
        if self.pos != len(self.data):
            raise ProtocolViolation("binary header has %d extra bytes" % (len(self.data) - self.pos))


def encode_envelope(command, request_id, flags=0, version=PROTOCOL_VERSION):
    return ENVELOPE.pack(version, command, flags, request_id)


def decode_envelope(frame):
    if len(frame) != ENVELOPE.size:
        raise ProtocolViolation("envelope of %d bytes" % len(frame))
    return ENVELOPE.unpack(frame)


def encode_publish_header(routing_key, exchange="", message_id="", key="", producer="", transaction="",
                          persistent=True, ttl_ms=None, delay_ms=None, headers=()):
    flags = (MSG_PERSISTENT if persistent else 0) | (MSG_TTL if ttl_ms is not None else 0) | (
        MSG_DELAY if delay_ms is not None else 0)
    w = Writer().u8(flags).str(exchange).str(routing_key).str(message_id).str(key).str(producer).str(transaction)
    return w.u64(ttl_ms or 0).u64(delay_ms or 0).headers(headers).bytes()


def encode_ack_header(consumer, tags):
    w = Writer().u64(consumer).u32(len(tags))
    for tag in tags:
        w.u64(tag)
    return w.bytes()


def encode_nack_header(consumer, tag, requeue, error=""):
    return Writer().u64(consumer).u64(tag).u8(1 if requeue else 0).str(error).bytes()


class Confirm:
    """The answer to one PUBLISH: outcome confirmed | duplicate | nacked, or error (an ERROR frame)."""

    def __init__(self, request_id, outcome, reason="", error="", message_id=None, queues=(), cumulative=False,
                 error_code=None):
        self.request_id = request_id
        self.outcome = outcome
        self.reason = reason
        self.error = error
        self.message_id = message_id
        self.queues = list(queues)
        self.cumulative = cumulative
        self.error_code = error_code

    @property
    def safe(self):
        return self.outcome in ("confirmed", "duplicate")

    def __repr__(self):
        return "Confirm(%d, %s, reason=%r, error=%r, id=%r, queues=%r, cumulative=%s, code=%r)" % (
            self.request_id, self.outcome, self.reason, self.error, self.message_id, self.queues, self.cumulative,
            self.error_code)


def decode_confirm_header(request_id, data):
    r = Reader(data)
    code = r.u8()
    if code not in OUTCOMES:
        raise ProtocolViolation("CONFIRM outcome %d" % code)
    reason, error, message_id = r.text(), r.text(), r.text()
    queues = [r.text() for _ in range(r.u32())]
    r.finish()
    return Confirm(request_id, OUTCOMES[code], reason, error, message_id, queues)


def decode_deliver_batch(data, bodies):
    """The deliveries of a DELIVER_BATCH: each DELIVER header as a str and its body's u32 length, the bodies back
    to back in the body frame. Malformed anywhere: ProtocolViolation, none of them."""
    r = Reader(data)
    deliveries, at = [], 0
    while r.pos < len(r.data):
        entry = r.raw()
        size = r.u32()
        if at + size > len(bodies):
            raise ProtocolViolation("DELIVER_BATCH body length %d runs past the body frame" % size)
        deliveries.append(Delivery(entry, bodies[at:at + size]))
        at += size
    if not deliveries:
        raise ProtocolViolation("DELIVER_BATCH holds no delivery")
    if at != len(bodies):
        raise ProtocolViolation("DELIVER_BATCH body frame has %d bytes beyond its bodies" % (len(bodies) - at))
    return deliveries


class Delivery:
    def __init__(self, data, body):
        r = Reader(data)
        self.consumer = r.u64()
        self.tag = r.u64()
        self.sequence = r.u64()
        self.attempt = r.u32()
        self.flags = r.u8()
        self.published_at = r.i64()
        self.queue = r.text()
        self.message_id = r.text()
        self.key = r.text()
        self.headers = r.headers()
        death = r.text()
        r.finish()
        self.death = json.loads(death) if self.flags & DELIVER_DEATH else None
        if not self.flags & DELIVER_DEATH and death:
            raise ProtocolViolation("DELIVER has a death record without flag 0x02")
        self.body = bytes(body)

    @property
    def redelivered(self):
        return bool(self.flags & DELIVER_REDELIVERED)

    def __repr__(self):
        return "Delivery(consumer=%d, tag=%d, seq=%d, attempt=%d, flags=%#x, queue=%r, id=%r, body=%r)" % (
            self.consumer, self.tag, self.sequence, self.attempt, self.flags, self.queue, self.message_id,
            self.body[:40])


def encode_json(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def decode_json(frame):
    if not frame:
        return {}
    obj = json.loads(bytes(frame).decode("utf-8"))
    if not isinstance(obj, dict):
        raise ProtocolViolation("JSON header is not an object: %r" % (obj,))
    return obj


# --- session --------------------------------------------------------------------------------------------------


class Session:
    """One DEALER connection to a broker. Call `hello()` first."""

    def __init__(self, endpoint, context=None, default_timeout=15.0):
        self.context = context or zmq.Context.instance()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.endpoint = endpoint
        self.default_timeout = default_timeout
        self.heartbeat_ms = 2000
        self.max_unconfirmed = 10000
        self.hello_reply = None
        self.auto_heartbeat = True
        self._next_id = 1
        self._last_sent = time.monotonic()
        self._last_heard = time.monotonic()
        self._replies = {}  # request id -> ("reply", dict) | ("error", DepotError)
        self._unconfirmed = collections.OrderedDict()  # publish request id -> message id sent ("" = broker's)
        self.confirms = {}  # publish request id -> Confirm
        self.deliveries = collections.deque()
        self.unsolicited_errors = []  # ERROR frames with request id 0
        self.tx_checks = []
        self._tx_pending = set()  # TX_END request ids: answered by a CONFIRM
        self.heartbeats_received = 0
        self.received = []  # (command, flags, request id) of everything read, for reports

    # -- plumbing

    def next_request_id(self):
        rid = self._next_id
        self._next_id += 1
        return rid

    def send_frames(self, frames):
        """Sends raw frames: the malformed-input tests use this directly."""
        self.socket.send_multipart(frames)
        self._last_sent = time.monotonic()

    def send(self, command, request_id, header=b"", body=b"", flags=0):
        self.send_frames([encode_envelope(command, request_id, flags), header, body])

    def heartbeat(self):
        self.send(HEARTBEAT, 0)

    def close(self):
        self.socket.close(0)

    def bye(self):
        self.send(BYE, self.next_request_id())

    def pump(self, timeout):
        """Reads and dispatches everything that arrives within `timeout` seconds (at least one poll)."""
        deadline = time.monotonic() + timeout
        while True:
            self._pump_once(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return

    def _pump_once(self, timeout):
        """Waits up to `timeout` for one message, sending heartbeats meanwhile; returns whether one came."""
        hb = self.heartbeat_ms / 1000.0
        deadline = time.monotonic() + timeout
        # Silence counts only while listening: a caller that made no call for a while has buffered input.
        listening_since = time.monotonic()
        while True:
            now = time.monotonic()
            if self.auto_heartbeat and self.hello_reply is not None and now - self._last_sent >= hb:
                self.heartbeat()
            wait = min(deadline - now, hb / 2)
            if self.socket.poll(max(0, int(wait * 1000)), zmq.POLLIN):
                self._dispatch(self.socket.recv_multipart())
                return True
            now = time.monotonic()
            silence = now - max(self._last_heard, listening_since)
            if self.hello_reply is not None and silence > 3 * hb:
                raise ConnectionLost("nothing heard from %s for %.1f s (heartbeatMs %d)" % (
                    self.endpoint, silence, self.heartbeat_ms))
            if now >= deadline:
                return False

    def _wait_until(self, done, timeout, what):
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("timed out waiting for %s" % what)
            self._pump_once(left)

    def _dispatch(self, frames):
        self._last_heard = time.monotonic()
        if len(frames) != 3:
            raise ProtocolViolation("broker sent %d frames: %r" % (len(frames), frames))
        version, command, flags, rid = decode_envelope(frames[0])
        if version != PROTOCOL_VERSION:
            raise ProtocolViolation("broker sent version %d" % version)
        self.received.append((COMMAND_NAMES.get(command, hex(command)), flags, rid))
        header, body = frames[1], frames[2]
        if command == HEARTBEAT:
            self.heartbeats_received += 1
        elif command == CONFIRM:
            self._on_confirm(flags, rid, header)
        elif command == DELIVER:
            self.deliveries.append(Delivery(header, body))
        elif command == DELIVER_BATCH:
            self.deliveries.extend(decode_deliver_batch(header, body))
        elif command == REPLY:
            self._replies[rid] = ("reply", decode_json(header))
        elif command == ERROR:
            self._on_error(rid, decode_json(header))
        elif command == TX_CHECK:
            self.tx_checks.append(decode_json(header))
        else:
            raise ProtocolViolation("broker sent command %#x" % command)

    def _on_error(self, rid, obj):
        error = DepotError(obj.get("code", ""), obj.get("message", ""), rid)
        if rid == 0:
            self.unsolicited_errors.append(error)
        elif rid in self._unconfirmed:
            # An ERROR answers a publish too (busy, bad-frame ...): it must not be covered by a later
            # cumulative CONFIRM.
            del self._unconfirmed[rid]
            self.confirms[rid] = Confirm(rid, "error", error=error.message, error_code=error.code)
        else:
            self._replies[rid] = ("error", error)

    def _on_confirm(self, flags, rid, header):
        if flags & ~CONFIRM_CUMULATIVE:
            raise ProtocolViolation("CONFIRM flags %#x" % flags)
        if flags & CONFIRM_CUMULATIVE:
            if header:
                raise ProtocolViolation("cumulative CONFIRM with a header")
            covered = [r for r in self._unconfirmed if r <= rid]
            for r in covered:
                message_id = self._unconfirmed.pop(r)
                self.confirms[r] = Confirm(r, "confirmed", message_id=message_id or None, cumulative=True)
            return
        confirm = decode_confirm_header(rid, header)
        if rid in self._unconfirmed:
            del self._unconfirmed[rid]
            self.confirms[rid] = confirm
        elif rid in self._tx_pending:
            self._replies[rid] = ("confirm", confirm)
        else:
            raise ProtocolViolation("CONFIRM for request %d, which is not waiting" % rid)

    # -- requests with a JSON reply

    def request(self, command, header, timeout=None, flags=0):
        """Sends a JSON request and returns the REPLY object; raises DepotError on ERROR."""
        rid = self.next_request_id()
        self.send(command, rid, encode_json(header), flags=flags)
        return self.wait_reply(rid, timeout)

    def wait_reply(self, rid, timeout=None):
        self._wait_until(lambda: rid in self._replies, timeout, "reply to request %d" % rid)
        kind, value = self._replies.pop(rid)
        if kind == "error":
            raise value
        return value

    def hello(self, client="python", role=None, heartbeat_ms=None, producer=None, deliver_batches=None,
              timeout=None):
        header = {"client": client}
        if deliver_batches is not None:
            header["deliverBatches"] = deliver_batches
        if role is not None:
            header["role"] = role
        if heartbeat_ms is not None:
            header["heartbeatMs"] = heartbeat_ms
        if producer is not None:
            header["producer"] = producer
        reply = self.request(HELLO, header, timeout)
        self.hello_reply = reply
        self.heartbeat_ms = int(reply.get("heartbeatMs", 2000))
        self.max_unconfirmed = int(reply.get("maxUnconfirmed", 10000))
        self._last_heard = time.monotonic()
        return reply

    def admin(self, op, timeout=None, **args):
        header = {"op": op}
        header.update(args)
        return self.request(ADMIN, header, timeout)

    # -- publishing

    def publish(self, routing_key, body, exchange="", message_id="", key="", oneway=False, window=None, **fields):
        """Sends one PUBLISH and returns its request id; see `wait_confirms`.

        Keeps at most `window` (default: HELLO's maxUnconfirmed) publishes in flight, waiting for confirms
        when the window is full."""
        window = self.max_unconfirmed if window is None else window
        if not oneway and len(self._unconfirmed) >= window:
            self._wait_until(lambda: len(self._unconfirmed) < window, None, "room in the confirm window")
        rid = self.next_request_id()
        header = encode_publish_header(routing_key, exchange=exchange, message_id=message_id, key=key, **fields)
        if not oneway:
            self._unconfirmed[rid] = message_id
        self.send(PUBLISH, rid, header, body.encode("utf-8") if isinstance(body, str) else body,
                  flags=PUBLISH_ONEWAY if oneway else 0)
        self.drain()
        return rid

    def drain(self):
        """Dispatches what has already arrived, without waiting (keeps confirms flowing while publishing)."""
        while self.socket.poll(0, zmq.POLLIN):
            self._dispatch(self.socket.recv_multipart())

    @property
    def unconfirmed(self):
        return len(self._unconfirmed)

    def wait_confirms(self, request_ids=None, timeout=None):
        """Waits until each publish in `request_ids` (default: all sent) is answered; returns their Confirms."""
        ids = list(self._unconfirmed) if request_ids is None else list(request_ids)
        self._wait_until(lambda: all(r in self.confirms for r in ids), timeout,
                         "%d confirms" % sum(1 for r in ids if r not in self.confirms))
        return [self.confirms[r] for r in ids]

    def publish_sync(self, routing_key, body, timeout=None, **fields):
        rid = self.publish(routing_key, body, **fields)
        return self.wait_confirms([rid], timeout)[0]

    def tx_end(self, transaction, action, timeout=None):
        rid = self.next_request_id()
        self._tx_pending.add(rid)
        self.send(TX_END, rid, encode_json({"transaction": transaction, "action": action}))
        try:
            return self.wait_reply(rid, timeout)
        finally:
            self._tx_pending.discard(rid)

    # -- consuming

    def consume(self, queue, prefetch=None, ack="manual", name=None, timeout=None):
        header = {"queue": queue, "ack": ack}
        if prefetch is not None:
            header["prefetch"] = prefetch
        if name is not None:
            header["name"] = name
        return self.request(CONSUME, header, timeout)["consumer"]

    def cancel(self, consumer, timeout=None):
        return self.request(CANCEL, {"consumer": consumer}, timeout)

    def next_delivery(self, timeout=None):
        """The next DELIVER, waiting up to `timeout` seconds; None when none came."""
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        while not self.deliveries:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._pump_once(left)
        return self.deliveries.popleft()

    def ack(self, consumer, tags, reply=True, timeout=None):
        """ACKs `tags`. With reply: waits for the durable REPLY and returns it; else returns None at once."""
        rid = self.next_request_id() if reply else 0
        self.send(ACK, rid, encode_ack_header(consumer, list(tags)))
        return self.wait_reply(rid, timeout) if reply else None

    def nack(self, consumer, tag, requeue, error="", reply=True, timeout=None):
        rid = self.next_request_id() if reply else 0
        self.send(NACK, rid, encode_nack_header(consumer, tag, requeue, error))
        return self.wait_reply(rid, timeout) if reply else None

    def wait_error(self, request_id, timeout=None):
        """Waits for the ERROR answering `request_id` (or for one with request id 0) and returns it.

        For malformed input, where the broker may not have been able to read the request id."""
        seen = len(self.unsolicited_errors)
        self._wait_until(lambda: request_id in self._replies or len(self.unsolicited_errors) > seen, timeout,
                         "an ERROR for request %d" % request_id)
        if request_id in self._replies:
            kind, value = self._replies.pop(request_id)
            if kind != "error":
                raise ProtocolViolation("expected ERROR for request %d, got %s %.200r" % (request_id, kind, value))
            return value
        return self.unsolicited_errors[seen]
