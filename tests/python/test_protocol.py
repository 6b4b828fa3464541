#!/usr/bin/python3
"""Drives a real depotd with the Python client of depot_client.py (written from docs/protocol.md alone).

Usage: /usr/bin/python3 test_protocol.py PATH/TO/depotd [unittest options]   (or DEPOTD=PATH in the environment)
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import depot_client as dc  # noqa: E402

DEPOTD = os.environ.get("DEPOTD", "")
STARTUP_TIMEOUT = 30.0
WAIT = 15.0  # generous deadline for anything the broker should do "soon"


class DepotdProcess:
    """A depotd on a free loopback port in a temporary data directory."""

    def __init__(self, path):
        self.path = path
        self.data = tempfile.mkdtemp(prefix="depot-py-")
        self.process = None
        self.endpoint = None
        self.stdout_lines = []

    def start(self):
        self.process = subprocess.Popen([self.path, "--data", self.data, "--listen", "tcp://127.0.0.1:0"],
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        lines = queue.Queue()

        def read_stdout():
            # Keeps draining after the ready line so the broker never blocks on a full pipe.
            for line in self.process.stdout:
                self.stdout_lines.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read_stdout, daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        prefix = "depotd listening on "
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError("depotd did not print '%s...' within %.0f s" % (prefix, STARTUP_TIMEOUT))
            if line is None:
                raise RuntimeError("depotd exited (%s) before listening; stdout: %r" % (
                    self.process.wait(), self.stdout_lines))
            if line.startswith(prefix):
                self.endpoint = line[len(prefix):].strip()
                return

    def stop(self):
        """SIGTERM, then the exit code (None if it had to be killed)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            shutil.rmtree(self.data, ignore_errors=True)

    def kill(self):
        self.process.kill()
        self.process.wait()


def eventually(check, timeout=WAIT, interval=0.05):
    """Polls `check` until it returns a true value; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class TestCodec(unittest.TestCase):
    """The byte-by-byte example of docs/protocol.md, encoded by this client."""

    def testEnvelopeMatchesDocExample(self):
        self.assertEqual(dc.encode_envelope(dc.HELLO, 1), bytes.fromhex("0101 0000 0100000000000000"))
        self.assertEqual(dc.decode_envelope(bytes.fromhex("0111 0100 0200000000000000")), (1, dc.CONFIRM, 1, 2))

    def testPublishHeaderMatchesDocExample(self):
        expected = bytes.fromhex("01 00000000 06000000") + b"orders" + bytes.fromhex("02000000") + b"m1" + bytes(
            4 + 4 + 4 + 8 + 8 + 4)
        self.assertEqual(dc.encode_publish_header("orders", message_id="m1"), expected)

    def testBinaryHeaderMustBeConsumedExactly(self):
        header = dc.Writer().u8(0).str("").str("").str("id").u32(0).bytes()
        self.assertEqual(dc.decode_confirm_header(5, header).message_id, "id")
        with self.assertRaises(dc.ProtocolViolation):
            dc.decode_confirm_header(5, header + b"\x00")
        with self.assertRaises(dc.ProtocolViolation):
            dc.decode_confirm_header(5, header[:-1])


class TestPythonClient(unittest.TestCase):
    broker = None

    @classmethod
    def setUpClass(cls):
        if not DEPOTD:
            raise RuntimeError("no depotd: pass its path as the first argument or set DEPOTD")
        cls.broker = DepotdProcess(DEPOTD)
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        if cls.broker is not None:
            code = cls.broker.stop()
            if code != 0:
                raise AssertionError("depotd exited with %r after SIGTERM (expected 0)" % (code,))

    # -- helpers

    def connect(self, hello=True, **hello_args):
        session = dc.Session(self.broker.endpoint)
        self.addCleanup(session.close)
        if hello:
            session.hello(client=self.id().rsplit(".", 1)[-1], **hello_args)
        return session

    def declare(self, session, name, **policy):
        policy.setdefault("backoffMs", [100])
        policy.setdefault("maxAttempts", 2)
        reply = session.admin("queue.declare", name=name, kind="normal", policy=policy)
        self.assertEqual(reply["queue"]["name"], name)
        return reply["queue"]

    def queue_stats(self, session, name):
        return session.admin("queue.show", name=name)["queue"]["stats"]

    def assertError(self, code, call, *args, **kwargs):
        with self.assertRaises(dc.DepotError) as caught:
            call(*args, **kwargs)
        self.assertEqual(caught.exception.code, code, str(caught.exception))
        return caught.exception

    def receive(self, session, count, timeout=WAIT):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            delivery = session.next_delivery(max(0.0, deadline - time.monotonic()))
            if delivery is None:
                self.fail("received %d of %d deliveries" % (len(got), count))
            got.append(delivery)
        return got

    def browse_one(self, session, queue_name, message_id):
        def find():
            reply = session.admin("message.browse", queue=queue_name, filter={"messageId": message_id})
            return reply["messages"] if reply.get("matched", 0) >= 1 else None

        messages = eventually(find)
        self.assertTrue(messages, "message %r never appeared in %r" % (message_id, queue_name))
        self.assertEqual(len(messages), 1, messages)
        return messages[0]

    # -- HELLO and sessions

    def testHelloReplyDescribesTheSession(self):
        session = self.connect(hello=False)
        reply = session.hello(client="py", role="producer", heartbeat_ms=1500)
        self.assertEqual(reply["protocol"], 1)
        self.assertEqual(reply["server"], "depotd")
        self.assertEqual(reply["role"], "producer")
        self.assertEqual(reply["heartbeatMs"], 1500)
        self.assertIsInstance(reply["session"], int)
        for key in ("maxMessageSize", "maxUnconfirmed", "maxPrefetch"):
            self.assertGreater(reply[key], 0, key)

    def testHeartbeatIntervalIsClamped(self):
        self.assertEqual(self.connect(hello=False).hello(heartbeat_ms=5)["heartbeatMs"], 100)
        self.assertEqual(self.connect(hello=False).hello(heartbeat_ms=10 ** 6)["heartbeatMs"], 60000)

    def testRequestBeforeHelloIsNoSession(self):
        session = self.connect(hello=False)
        self.assertError("no-session", session.admin, "queue.list")
        session.hello()
        self.assertIn("queues", session.admin("queue.list"))

    def testSecondHelloIsInvalid(self):
        session = self.connect()
        self.assertError("invalid", session.hello)
        self.assertIn("queues", session.admin("queue.list"))

    # -- publishing

    def testPipelinedPublishesAreAllConfirmed(self):
        session = self.connect(role="producer")
        self.declare(session, "py.pipeline")
        count = 2000
        ids = [session.publish("py.pipeline", "body-%d" % i, message_id="pipe-%d" % i) for i in range(count)]
        confirms = session.wait_confirms(ids, timeout=60)
        for index, confirm in enumerate(confirms):
            self.assertEqual(confirm.outcome, "confirmed", confirm)
            self.assertEqual(confirm.message_id, "pipe-%d" % index, confirm)
            if not confirm.cumulative:
                self.assertEqual(confirm.queues, ["py.pipeline"], confirm)
        cumulative = sum(1 for c in confirms if c.cumulative)
        print("\n%d publishes: %d confirmed cumulatively, %d singly" % (count, cumulative, count - cumulative),
              file=sys.stderr)
        self.assertEqual(eventually(lambda: self.queue_stats(session, "py.pipeline")["ready"] == count), True)

    def testDuplicateMessageIdIsReportedDuplicate(self):
        session = self.connect(role="producer")
        self.declare(session, "py.dup")
        self.assertEqual(session.publish_sync("py.dup", "first", message_id="dup-1").outcome, "confirmed")
        second = session.publish_sync("py.dup", "second", message_id="dup-1")
        self.assertEqual(second.outcome, "duplicate", second)
        self.assertFalse(second.cumulative)
        self.assertEqual(second.message_id, "dup-1")
        self.assertEqual(self.queue_stats(session, "py.dup")["ready"], 1)

    def testPublishToUnknownQueueIsNackedNoQueue(self):
        session = self.connect(role="producer")
        confirm = session.publish_sync("py.nowhere", "lost", message_id="nq-1")
        self.assertEqual(confirm.outcome, "nacked", confirm)
        self.assertEqual(confirm.reason, "no-queue", confirm)
        self.assertEqual(confirm.queues, [])

    def testBrokerAssignsAnIdWhenNoneIsGiven(self):
        session = self.connect(role="producer")
        self.declare(session, "py.noid")
        confirm = session.publish_sync("py.noid", "anonymous")
        self.assertEqual(confirm.outcome, "confirmed", confirm)
        self.assertTrue(confirm.message_id, "the confirm of an id-less publish names no id: %r" % confirm)

    # -- consuming

    def testConsumeWithManualAcksReceivesEachBodyOnce(self):
        producer = self.connect(role="producer")
        self.declare(producer, "py.consume")
        count = 300
        expected = ["c-%d" % i for i in range(count)]
        confirms = producer.wait_confirms([producer.publish("py.consume", b, message_id=b) for b in expected])
        self.assertTrue(all(c.outcome == "confirmed" for c in confirms))

        consumer = self.connect(role="consumer")
        tag = consumer.consume("py.consume", prefetch=50, name="py-worker")
        bodies = []
        batch = []
        for index in range(count):  # acks as it goes: at most `prefetch` deliveries are outstanding
            delivery = self.receive(consumer, 1)[0]
            self.assertEqual(delivery.consumer, tag)
            self.assertEqual(delivery.queue, "py.consume")
            self.assertEqual(delivery.attempt, 1)
            self.assertFalse(delivery.redelivered)
            self.assertEqual(delivery.message_id, delivery.body.decode())
            bodies.append(delivery.body.decode())
            batch.append(delivery.tag)
            if len(batch) == 25:
                if index < 50:  # the first two batches: no reply wanted
                    self.assertIsNone(consumer.ack(tag, batch, reply=False))
                else:
                    self.assertEqual(consumer.ack(tag, batch), {"settled": 25})
                batch = []
        self.assertEqual(sorted(bodies), sorted(expected))
        self.assertIsNone(consumer.next_delivery(0.5), "a delivery beyond the published ones")
        self.assertEqual(consumer.unsolicited_errors, [])
        stats = eventually(lambda: self.queue_stats(producer, "py.consume")["unacked"] == 0)
        self.assertTrue(stats, self.queue_stats(producer, "py.consume"))
        self.assertEqual(self.queue_stats(producer, "py.consume")["ready"], 0)

    def testDeliverBatchesCarryTheSameDeliveriesWhenAskedFor(self):
        producer = self.connect(role="producer")
        self.declare(producer, "py.batched")
        expected = ["b-%d" % i for i in range(120)]
        confirms = producer.wait_confirms([producer.publish("py.batched", b, message_id=b) for b in expected])
        self.assertTrue(all(c.outcome == "confirmed" for c in confirms))

        consumer = self.connect(role="consumer", deliver_batches=True)
        self.assertIs(consumer.hello_reply.get("deliverBatches"), True)
        tag = consumer.consume("py.batched", prefetch=200)
        deliveries = self.receive(consumer, len(expected))
        self.assertEqual([d.message_id for d in deliveries], expected)  # queue order
        self.assertEqual([d.body.decode() for d in deliveries], expected)
        names = [name for name, _, _ in consumer.received]
        self.assertNotIn("DELIVER", names)
        self.assertLess(names.count("DELIVER_BATCH"), len(expected))
        self.assertEqual(consumer.ack(tag, [d.tag for d in deliveries]), {"settled": len(expected)})
        self.assertEqual(consumer.unsolicited_errors, [])

    def testRejectedMessageIsDeadLetteredWithItsError(self):
        session = self.connect()
        dlq = self.declare(session, "py.reject")["deadLetterQueue"]
        self.assertTrue(dlq, "queue.declare's Queue names no dead-letter queue")
        self.assertTrue(session.publish_sync("py.reject", "poison", message_id="rj-1").safe)
        consumer = session.consume("py.reject", prefetch=10)
        delivery = self.receive(session, 1)[0]
        self.assertEqual(delivery.message_id, "rj-1")
        self.assertEqual(session.nack(consumer, delivery.tag, requeue=False, error="cannot parse rj-1"),
                         {"settled": 1})
        dead = self.browse_one(session, dlq, "rj-1")
        self.assertEqual(dead["body"], "poison")
        self.assertEqual(dead["death"]["reason"], "rejected")
        self.assertEqual(dead["death"]["lastError"], "cannot parse rj-1")
        self.assertEqual(dead["death"]["sourceQueue"], "py.reject")
        self.assertIsNone(session.next_delivery(0.5), "a rejected message came back")

    def testRequeuedNacksRetryThenDeadLetterMaxAttempts(self):
        session = self.connect()
        dlq = self.declare(session, "py.retry", backoffMs=[100], maxAttempts=2)["deadLetterQueue"]
        self.assertTrue(session.publish_sync("py.retry", "flaky", message_id="rt-1").safe)
        consumer = session.consume("py.retry", prefetch=10)
        first = self.receive(session, 1)[0]
        self.assertEqual(first.attempt, 1)
        session.nack(consumer, first.tag, requeue=True, error="try again", reply=False)
        second = self.receive(session, 1)[0]
        self.assertEqual((second.message_id, second.attempt, second.sequence), ("rt-1", 2, first.sequence))
        self.assertEqual(session.nack(consumer, second.tag, requeue=True, error="still failing"), {"settled": 1})
        dead = self.browse_one(session, dlq, "rt-1")
        self.assertEqual(dead["death"]["reason"], "max-attempts")
        self.assertEqual(dead["death"]["lastError"], "still failing")
        self.assertEqual(session.unsolicited_errors, [])

    def testUnknownDeliveryTagIsNotFound(self):
        session = self.connect()
        self.declare(session, "py.tags")
        consumer = session.consume("py.tags")
        self.assertError("not-found", session.ack, consumer, [987654321])
        self.assertError("not-found", session.nack, consumer, 987654321, True)
        self.assertError("not-found", session.ack, consumer + 1000, [1])
        session.ack(consumer, [987654321], reply=False)
        error = session.wait_error(0)
        self.assertEqual((error.code, error.request_id), ("not-found", 0))

    def testCancelRedeliversUnackedAtOnce(self):
        session = self.connect()
        self.declare(session, "py.cancel")
        self.assertTrue(session.publish_sync("py.cancel", "x", message_id="cn-1").safe)
        first = session.consume("py.cancel", prefetch=1)
        self.assertEqual(self.receive(session, 1)[0].message_id, "cn-1")
        self.assertEqual(session.cancel(first), {})
        session.consume("py.cancel", prefetch=1)
        again = self.receive(session, 1)[0]
        self.assertEqual(again.message_id, "cn-1")
        self.assertTrue(again.redelivered)

    # -- admin

    def testStatsWithoutQueuesHasTotalsOnly(self):
        session = self.connect()
        self.declare(session, "py.stats")
        full = session.admin("stats")
        self.assertIn("py.stats", [q["name"] for q in full["queues"]])
        totals = session.admin("stats", queues=False)
        self.assertEqual(totals["queues"], [])
        self.assertIn("published", totals["totals"])
        self.assertError("invalid", session.admin, "stats", queues="no")

    def testBrokerDefaultFlushGoesToQueuesThatDoNotChoose(self):
        session = self.connect(role="admin")
        self.assertEqual(session.admin("broker.settings"), {"defaultFlush": "sync", "asyncFlushIntervalMs": 100})
        changed = session.admin("broker.configure", defaultFlush="async")
        self.assertEqual(changed, {"defaultFlush": "async", "asyncFlushIntervalMs": 100})
        try:
            unchosen = session.admin("queue.declare", name="py.default-flush", kind="normal", policy={})
            self.assertEqual(unchosen["queue"]["policy"]["flush"], "async")
            chosen = session.admin("queue.declare", name="py.chosen-flush", kind="normal", policy={"flush": "sync"})
            self.assertEqual(chosen["queue"]["policy"]["flush"], "sync")
            self.assertError("invalid", session.admin, "broker.configure", asyncFlushIntervalMs=0)
            self.assertError("invalid", session.admin, "broker.configure", defaultFlush="sometimes")
        finally:
            session.admin("broker.configure", defaultFlush="sync")
        producer = self.connect(role="producer")
        self.assertError("forbidden", producer.admin, "broker.configure", defaultFlush="async")

    def testAdminErrors(self):
        session = self.connect(role="producer")
        self.assertError("invalid", session.admin, "queue.declare", name=" hidden", kind="normal", policy={})
        self.assertError("unknown-command", session.admin, "queue.frobnicate")
        self.assertError("not-found", session.admin, "queue.show", name="py.absent")
        self.declare(session, "py.admin")
        self.assertError("forbidden", session.admin, "queue.delete", name="py.admin")
        self.assertError("exists", session.admin, "queue.declare", name="py.admin", kind="normal",
                         policy={"backoffMs": [100], "maxAttempts": 3})
        names = [q["name"] for q in session.admin("queue.list")["queues"]]
        self.assertIn("py.admin", names)

    # -- hostile input

    def malformedCases(self):
        env = dc.encode_envelope
        admin = dc.encode_json({"op": "queue.list"})
        good_publish = dc.encode_publish_header("py.malformed", message_id="ok")
        # (name, frames for request id rid, expected code, must the ERROR echo rid)
        return [
            ("two frames", lambda rid: [env(dc.ADMIN, rid), admin], "bad-frame", False),
            ("four frames", lambda rid: [env(dc.ADMIN, rid), admin, b"", b""], "bad-frame", False),
            ("short envelope", lambda rid: [env(dc.ADMIN, rid)[:7], admin, b""], "bad-frame", False),
            ("long envelope", lambda rid: [env(dc.ADMIN, rid) + b"\0", admin, b""], "bad-frame", False),
            ("version 2", lambda rid: [env(dc.ADMIN, rid, version=2), admin, b""], "unsupported-version", False),
            ("unknown command", lambda rid: [env(0x7E, rid), b"", b""], "unknown-command", True),
            ("garbage PUBLISH header", lambda rid: [env(dc.PUBLISH, rid), b"\x01\xff\xff\xff\x7f", b"x"],
             "bad-frame", True),
            ("PUBLISH header with an extra byte", lambda rid: [env(dc.PUBLISH, rid), good_publish + b"\0", b"x"],
             "bad-frame", True),
            ("truncated ACK header", lambda rid: [env(dc.ACK, rid), b"\x01\x00\x00", b""], "bad-frame", True),
            ("JSON header not an object", lambda rid: [env(dc.ADMIN, rid), b"[1,2]", b""], "bad-frame", True),
            ("JSON header not JSON", lambda rid: [env(dc.ADMIN, rid), b"{op:", b""], "bad-frame", True),
            ("undefined flags", lambda rid: [env(dc.ADMIN, rid, flags=0x8000), admin, b""], "bad-frame", True),
        ]

    def testMalformedFramesGetDocumentedErrorsAndTheSessionSurvives(self):
        session = self.connect(role="producer")
        self.declare(session, "py.malformed")
        for name, frames, code, echoes in self.malformedCases():
            with self.subTest(name):
                rid = session.next_request_id()
                session.send_frames(frames(rid))
                error = session.wait_error(rid)
                self.assertEqual(error.code, code, "%s: %s" % (name, error))
                self.assertIn(error.request_id, (rid, 0) if not echoes else (rid,), "%s: %s" % (name, error))
        self.assertIn("queues", session.admin("queue.list"))
        self.assertEqual(session.publish_sync("py.malformed", "still here", message_id="after").outcome, "confirmed")
        self.assertEqual(self.queue_stats(session, "py.malformed")["ready"], 1)  # no garbage stored

    # -- heartbeats

    def testBrokerSendsHeartbeatsToAnIdleSession(self):
        session = self.connect(heartbeat_ms=200)
        deadline = time.monotonic() + WAIT
        while session.heartbeats_received < 3 and time.monotonic() < deadline:
            session.pump(0.2)  # sends our own heartbeats meanwhile; raises ConnectionLost after 600 ms of silence
        self.assertGreaterEqual(session.heartbeats_received, 3, session.received[-10:])
        self.assertIn("queues", session.admin("queue.list"))  # and the broker still considers us alive

    def testSilentSessionIsDeclaredDeadAndItsDeliveryRedelivered(self):
        admin = self.connect()
        self.declare(admin, "py.heartbeat")
        self.assertTrue(admin.publish_sync("py.heartbeat", "held", message_id="hb-1").safe)

        silent = self.connect(role="consumer", heartbeat_ms=200)
        self.assertEqual(silent.hello_reply["heartbeatMs"], 200)
        silent.consume("py.heartbeat", prefetch=1)
        held = self.receive(silent, 1)[0]
        self.assertEqual((held.message_id, held.attempt), ("hb-1", 1))

        time.sleep(1.5)  # 'silent' sends nothing at all: dead after 3 x 200 ms

        survivor = self.connect(role="consumer")
        survivor.consume("py.heartbeat", prefetch=1)
        again = self.receive(survivor, 1)[0]
        self.assertEqual((again.message_id, again.sequence), ("hb-1", held.sequence))
        self.assertTrue(again.redelivered, again)
        self.assertEqual(again.body, b"held")

        # The dead session's DEALER is still connected: the broker must say so, and a new HELLO works.
        self.assertError("no-session", silent.admin, "queue.list")
        silent.hello()
        self.assertIn("queues", silent.admin("queue.list"))


if __name__ == "__main__":
    argv = sys.argv[:1]
    rest = sys.argv[1:]
    if rest and not rest[0].startswith("-"):
        DEPOTD = rest.pop(0)
    unittest.main(argv=argv + rest, verbosity=2)
