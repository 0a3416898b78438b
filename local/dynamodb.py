"""Local stack: the DynamoDB endpoint core talks to - moto's server on loopback, one request at a time, kept on disk,
in a process of its own (`python -m local.dynamodb`, which the stack starts) beside the stack's."""
from __future__ import annotations

import argparse
import base64
import fcntl
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from local import moto_patches
from local.serving import ServedInThread
from local.tables import create_table

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("local.dynamodb")  # one name, imported or run as `python -m local.dynamodb`

# Operations that cannot change data. Anything else - including operations this list does not know -
# counts as a write, which at worst costs one snapshot too many.
READ_ONLY = frozenset({
    "BatchGetItem", "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits", "DescribeTable",
    "DescribeTimeToLive", "GetItem", "ListTables", "ListTagsOfResource", "Query", "Scan", "TransactGetItems",
    # The table's stream, which local/streams.py polls: reading it changes no item.
    "DescribeStream", "GetRecords", "GetShardIterator", "ListStreams",
})

SNAPSHOT_FORMAT = "turnout-dynamodb-snapshot/1"

_STOPPED = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#ServiceUnavailableException",
    "message": "The local DynamoDB endpoint is stopping.",
}).encode()


class SerializedApp:
    """WSGI middleware that lets exactly one request at a time into moto.

    moto is not thread-safe: measured, 64 concurrent clients overbooked a 50-seat event and lost stored
    items unless every request was serialized. The same lock lets a snapshot see the table between two
    requests, never in the middle of a transaction.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self._app = app
        self.lock = threading.Lock()
        self.writes = 0  # requests that may have changed data; read and written only under the lock
        self.closed = False  # set with the final snapshot: nothing acknowledged afterwards could be saved

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # Read the request before taking the lock, so one slow client never holds up the others.
        environ["wsgi.input"] = io.BytesIO(_request_body(environ))
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        with self.lock:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "application/x-amz-json-1.0")])
                return [_STOPPED]
            read_only = operation in READ_ONLY
            # moto_patches keeps partitions sorted between writes: whatever may write starts and ends afresh.
            if read_only:
                moto_patches.reading(True)
            else:
                moto_patches.forget()
            try:
                chunks = self._app(environ, start_response)
                try:
                    # Drain inside the lock: moto may build the body lazily from shared state.
                    body = b"".join(chunks)
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
            finally:
                if read_only:
                    moto_patches.reading(False)
                else:
                    moto_patches.forget()
                    self.writes += 1
        return [body]


def _request_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug has de-chunked it and marks the end
        return stream.read()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return stream.read(length) if length > 0 else b""


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per DynamoDB call: core makes several per API request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Snapshots:
    """One table's items in one file, as DynamoDB JSON, replaced atomically so a crash never leaves half a file."""

    def __init__(self, data_dir: Path, table_name: str):
        self.path = data_dir / f"{table_name}.dynamodb.json"
        self.table_name = table_name

    def load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        # A file we cannot read is a loud error: starting empty would look like data loss.
        snapshot = json.loads(self.path.read_text())
        if snapshot.get("format") != SNAPSHOT_FORMAT or snapshot.get("table") != self.table_name:
            raise ValueError(f"{self.path} is not a snapshot of table {self.table_name!r}")
        return snapshot["items"]

    def render(self, items: list[dict[str, Any]]) -> str:
        return json.dumps(
            {"format": SNAPSHOT_FORMAT, "table": self.table_name, "saved_at": time.time(), "items": items},
            separators=(",", ":"), default=_binary,
        )

    def write(self, text: str) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        # The items hold people's emails and phones: the file is for its owner alone, like the folder.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # a .tmp left by a crash keeps its mode through O_CREAT
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)


def _binary(value: object) -> str:
    # moto hands some nested binary values over as bytes; DynamoDB JSON carries them as base64 text.
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


class MotoServer:
    """moto's WSGI app behind SerializedApp, served by werkzeug on loopback; binds on construction, or serves
    the listening socket `fd` it is handed (DynamoDBProcess binds it)."""

    def __init__(self, port: int = 0, *, fd: int | None = None, shortcuts: bool = True):
        moto_patches.install(shortcuts=shortcuts)
        self.app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        # werkzeug exits the process when it cannot bind: bind here, where the error can be told in one line.
        listening = _listen(port) if fd is None else socket.socket(fileno=fd)
        self._server = make_server(HOST, 0, self.app, threaded=True, request_handler=_QuietRequestHandler,
                                   fd=listening.fileno())
        listening.close()  # werkzeug serves a duplicate of it
        self.port = self._server.port
        self.url = f"http://{HOST}:{self.port}"
        self._served = ServedInThread(self._server, "dynamodb-server")

    def start(self) -> None:
        self._served.start()

    def stop(self) -> None:
        self._served.stop()

    def client(self, region: str) -> Any:
        """A boto3 client for this server, with credentials that can never reach AWS."""
        return boto3.client("dynamodb", endpoint_url=self.url, region_name=region,
                            aws_access_key_id="local", aws_secret_access_key="local")


class DynamoDBEndpoint:
    """The table from template.yaml on a MotoServer, kept on disk (what DynamoDBProcess runs).

    Persistence: whenever a write happened, the table's items are snapshotted to the data folder, at most
    every `snapshot_every` seconds, and once more on stop; start-up loads the last snapshot. A kill -9 of this
    process therefore loses at most the writes of the last `snapshot_every` seconds plus one snapshot's write
    time (a kill -9 of the stack alone loses nothing: this process sees its stdin end and stops as usual).
    """

    def __init__(self, server: MotoServer, *, data_dir: Path, table_name: str, region: str,
                 snapshot_every: float = 0.5):
        self.server = server
        self.data_dir = Path(data_dir)
        self.table_name = table_name
        self.region = region
        self.snapshot_every = snapshot_every
        self._snapshots = Snapshots(self.data_dir, table_name)
        self._restored = False  # until then the table in memory is not the whole truth: never save it
        self._saved_writes = 0
        self._save_lock = threading.Lock()  # the snapshot thread and stop() never write the file at once
        self._stopping = threading.Event()
        self._snapshotter: threading.Thread | None = None
        self._data_dir_lock: int | None = None

    def start(self) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._claim_data_dir()
        items = self._snapshots.load()
        self.server.start()
        client = self.server.client(self.region)
        create_table(client, self.table_name)
        if self._table() is None:
            raise RuntimeError(f"moto keeps {self.table_name!r} where snapshots cannot see it (MOTO_ACCOUNT_ID?)")
        _restore(client, self.table_name, items)
        with self.server.app.lock:
            self._saved_writes = self.server.app.writes  # everything so far is already on disk
            self._restored = True
        self._snapshotter = threading.Thread(target=self._keep_snapshots, name="dynamodb-snapshots", daemon=True)
        self._snapshotter.start()
        log.info("DynamoDB on %s: %d items restored from %s", self.server.url, len(items), self._snapshots.path)

    def stop(self) -> None:
        self._stopping.set()
        try:
            if self._snapshotter is not None:
                self._snapshotter.join(timeout=5)
            self.save(final=True)
        finally:
            self._restored = False
            self.server.stop()
            if self._data_dir_lock is not None:
                os.close(self._data_dir_lock)
                self._data_dir_lock = None

    def save(self, *, final: bool = False) -> bool:
        """Writes a snapshot if anything changed since the last one; True if it wrote."""
        with self._save_lock:
            app = self.server.app
            with app.lock:
                writes = app.writes
                changed = self._restored and writes != self._saved_writes
                if changed:
                    # Rendered under the lock: moto changes items in place.
                    text = self._snapshots.render(self._items())
                if final:
                    app.closed = True
            if changed:
                self._snapshots.write(text)
                self._saved_writes = writes
            return changed

    def _keep_snapshots(self) -> None:
        while not self._stopping.wait(self.snapshot_every):
            try:
                self.save()
            except Exception:
                # Keep trying: a full disk may free up, and stop() makes one last attempt anyway.
                log.exception("Could not save the DynamoDB snapshot to %s", self._snapshots.path)

    def _items(self) -> list[dict[str, Any]]:
        table = self._table()
        return [item.to_json()["Attributes"] for item in table.all_items()] if table is not None else []

    def _table(self) -> Any:
        # moto files tables by account and region; fake credentials map to its default account.
        return dynamodb_backends[moto_account()][self.region].tables.get(self.table_name)

    def forget_iterator(self, iterator: str) -> None:
        """Drops a stream shard iterator the poller has used, and the records below it (forget_records)."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        with self.server.app.lock:  # moto is not thread-safe: its state changes only between two requests
            used = dynamodbstreams_backends[moto_account()][self.region].shard_iterators.pop(iterator, None)
            table = self._table()
            if used is not None and table is not None and table.stream_shard is not None:
                moto_patches.forget_records(table.stream_shard, int(used.sequence_number))

    def _claim_data_dir(self) -> None:
        # Two stacks snapshotting into one folder would overwrite each other's data.
        fd = os.open(self.data_dir / "stack.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(f"another local stack is using {self.data_dir}/") from None
        self._data_dir_lock = fd


def moto_account() -> str:
    """The account moto keeps its resources under, as moto itself chooses it."""
    return os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)


def _listen(port: int) -> socket.socket:
    try:
        return socket.create_server((HOST, port))
    except OSError as err:
        raise OSError(err.errno, f"cannot listen on {HOST}:{port} for DynamoDB ({err.strerror})") from None


class DynamoDBProcess:
    """The stack's DynamoDB component: a DynamoDBEndpoint in a process of its own, so that moto's work runs on
    another core than the gateway's and the functions' (one interpreter ran both on one core, sign-ups bound by
    its CPU). The stack binds the socket on construction - core learns the URL before anything starts - and
    hands it over. The process says "ready" (or "error ...") on its stdout and takes one command a line on its
    stdin; the end of its stdin (the stack gone, even by kill -9) stops it as "stop" does, after a last snapshot."""

    name = "dynamodb"
    shortcuts = True  # local/moto_patches.py in the process; tests/bench/stock_local.py runs without

    def __init__(self, port: int, *, data_dir: Path):
        self._socket: socket.socket | None = _listen(port)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self.data_dir = Path(data_dir).absolute()
        self._process: subprocess.Popen[str] | None = None
        self._ready = False
        self._commands = threading.Lock()  # the stream poller's thread and stop() write to one pipe

    def start(self) -> None:
        assert self._socket is not None, "a DynamoDBProcess starts once"
        fd = self._socket.fileno()
        # The process reads the table's name and region from the environment, as core does (core.config).
        command = [sys.executable, "-m", "local.dynamodb", "--fd", str(fd), "--data-dir", str(self.data_dir)]
        if not self.shortcuts:
            command.append("--as-it-comes")
        self._process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True, pass_fds=(fd,))
        self._socket.close()  # the process serves it now
        self._socket = None
        said = self._pipes()[1].readline().strip()
        if said != "ready":
            self._process.wait(10)
            raise RuntimeError(said.removeprefix("error ") if said.startswith("error ")
                               else f"the DynamoDB process exited with {self._process.returncode}")
        self._ready = True

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._process is None:
            return
        self._ready = False
        self._command("stop")
        try:
            code = self._process.wait(20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        self._pipes()[1].close()
        if code != 0:
            raise RuntimeError(f"the DynamoDB process exited with {code}; its last writes may not be on disk")

    def ready(self) -> bool:
        return self._ready and self._process is not None and self._process.poll() is None

    def describe(self) -> str:
        from core.config import settings  # imported once the stack has pointed core at this endpoint

        return f"DynamoDB (moto)   {self.url}   table {settings.table_name}, data in {self.data_dir}/"

    def forget_iterator(self, iterator: str) -> None:
        """DynamoDBEndpoint.forget_iterator, in the process."""
        self._command(f"forget {iterator}")

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        """The process's stdin and stdout: Popen gives None for a stream not piped, and start() pipes both."""
        assert self._process is not None and self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def _command(self, line: str) -> None:
        with self._commands:
            stdin = self._pipes()[0]
            try:
                stdin.write(line + "\n")
                stdin.flush()
            except (BrokenPipeError, ValueError):  # gone already (or stopping): nothing left to tell it
                pass


def main(argv: list[str] | None = None) -> int:
    """The process DynamoDBProcess starts."""
    parser = argparse.ArgumentParser(prog="python -m local.dynamodb",
                                     description="The local stack's DynamoDB endpoint; python -m local starts it.")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket, bound by the stack")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--as-it-comes", action="store_true", help="moto without local/moto_patches.py")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Ctrl-C reaches the whole process group: the stack stops this process itself, once its functions are done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # sent here directly: stop as cleanly
    os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")  # its own client never reaches AWS
    from core.config import settings  # the table and region core uses, from the stack's environment

    endpoint = DynamoDBEndpoint(MotoServer(fd=args.fd, shortcuts=not args.as_it_comes), data_dir=args.data_dir,
                                table_name=settings.table_name, region=settings.region)
    try:
        try:
            endpoint.start()
        except (OSError, RuntimeError, ValueError) as err:
            print(f"error {err}", flush=True)
            return 1
        print("ready", flush=True)
        for line in sys.stdin:
            command, _, argument = line.rstrip("\n").partition(" ")
            if command == "forget":
                endpoint.forget_iterator(argument)
            elif command == "stop":
                break
    finally:
        endpoint.stop()
    return 0


def _restore(client: Any, table_name: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):  # BatchWriteItem takes at most 25 items
        batch = [{"PutRequest": {"Item": _for_boto3(item)}} for item in items[start:start + 25]]
        requests = {table_name: batch}
        while requests:
            requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}


def _for_boto3(attributes: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON as boto3 takes it: binary as bytes, which it base64-encodes itself (else twice)."""
    return {name: _value_for_boto3(value) for name, value in attributes.items()}


def _value_for_boto3(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {kind: base64.b64decode(inner)}
    if kind == "BS":
        return {kind: [base64.b64decode(one) for one in inner]}
    if kind == "M":
        return {kind: _for_boto3(inner)}
    if kind == "L":
        return {kind: [_value_for_boto3(one) for one in inner]}
    return value


if __name__ == "__main__":
    sys.exit(main())
