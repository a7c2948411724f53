"""Signed checkpoints of the chain (contract §13): what a forger holding pnman cannot redo.

The hash chain catches an edit of a past entry, but anyone with the file and pnman's own
hashing can rewrite an entry and rehash every later one, or cut the last entries: the
chain then holds again. A checkpoint is an entry whose payload is the head as it was —
`{count, head, at, key, signature}`: how many entries the chain had, the hash of the last
one, when, the fingerprint of the agency's public key, and an Ed25519 signature (through
`cryptography`) over the first four. Without the private key nobody can sign a checkpoint
for a rewritten chain, so `verify --pub` finds the first checkpoint that no longer holds:
its signature, its key, or the entry it names (missing: the chain was cut below it;
another hash: the chain was rewritten below it).

What a checkpoint does not do: it says nothing of the entries after the last one, and a
registry cut *above and including* its last checkpoints only shows against a head the
auditor kept (`verify --head HASH`, the hash printed by `registry checkpoint` or a report).
"""
from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import orjson

from pnman.engine.record import canonical_json
from pnman.knowledge.errors import InputError, Phrase, os_reason

from .append import append
from .chain import timestamp, unpack
from .entries import Entry

PURPOSE = "pnman-registry-checkpoint/1"      # signed with the checkpoint: a signature made for nothing else
NO_COLUMNS = (None, None, None, None, None, None)


def _crypto():
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    return InvalidSignature, serialization, Ed25519PrivateKey, Ed25519PublicKey


# -- keys ------------------------------------------------------------------------------------

def key_paths(output: str | os.PathLike) -> tuple[Path, Path]:
    """NAME.key and NAME.pub for `-o NAME.key` (or `-o NAME`)."""
    path = Path(output)
    private = path if path.suffix == ".key" else path.with_name(path.name + ".key")
    return private, private.with_suffix(".pub")


def new_keys(output: str | os.PathLike) -> tuple[Path, Path, str]:
    """Write a new Ed25519 key pair: the private key (PEM, PKCS#8, mode 0600, made with that
    mode: never readable by others, even for a moment) and the public key (PEM). Neither may
    exist already: a key is never written over. Returns both paths and the fingerprint."""
    _, serialization, private_class, _ = _crypto()
    private_path, public_path = key_paths(output)
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise InputError(Phrase("keys.exists"), file=str(path))
    key = private_class.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return private_path, public_path, fingerprint(key.public_key())


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except FileExistsError:
        raise InputError(Phrase("keys.exists"), file=str(path)) from None
    except OSError as exc:
        raise InputError(Phrase("write.failed", reason=os_reason(exc)), file=str(path)) from None
    with os.fdopen(fd, "wb") as fp:
        fp.write(data)
        fp.flush()
        os.fsync(fp.fileno())


def fingerprint(public_key) -> str:
    """sha256 of the raw 32-byte public key: which key signed, in a checkpoint and on screen."""
    _, serialization, _, _ = _crypto()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def load_private(path: str | os.PathLike):
    _, serialization, private_class, _ = _crypto()
    data = _read_key(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError(Phrase("keys.not_private_pem"), file=str(path)) from None
    if not isinstance(key, private_class):
        raise InputError(Phrase("keys.not_ed25519_private"), file=str(path))
    return key


def load_public(path: str | os.PathLike):
    _, serialization, _, public_class = _crypto()
    data = _read_key(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InputError(Phrase("keys.not_public_pem"), file=str(path)) from None
    if not isinstance(key, public_class):
        raise InputError(Phrase("keys.not_ed25519_public"), file=str(path))
    return key


def _read_key(path: str | os.PathLike) -> bytes:
    try:
        with open(path, "rb") as fp:
            data = fp.read(64 * 1024 + 1)
    except FileNotFoundError:
        raise InputError(Phrase("keys.no_such"), file=str(path)) from None
    except IsADirectoryError:
        raise InputError(Phrase("keys.folder"), file=str(path)) from None
    except OSError as exc:
        raise InputError(Phrase("unreadable", reason=os_reason(exc)), file=str(path)) from None
    if len(data) > 64 * 1024:
        raise InputError(Phrase("keys.too_large"), file=str(path))
    return data


# -- checkpoints -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint entry: its own place in the chain, and the head it signs."""
    seq: int
    id: str
    hash: str               # the checkpoint entry's own hash
    count: int              # entries of the chain when it was signed (it follows entry `count`)
    head: str               # the hash of entry `count`
    at: str
    key: str                # the fingerprint of the public key that signs it
    signature: str          # base64

    def as_dict(self) -> dict:
        return {"seq": self.seq, "id": self.id, "hash": self.hash, "count": self.count, "head": self.head,
                "at": self.at, "key": self.key, "signature": self.signature}


def signed_bytes(count: int, head: str, at: str, key: str) -> bytes:
    """What a checkpoint's signature covers: the canonical JSON of its head, time and key."""
    return canonical_json({"at": at, "count": count, "head": head, "key": key, "purpose": PURPOSE}).encode("utf-8")


def add_checkpoint(conn: sqlite3.Connection, path: Path, private_key) -> Entry:
    """Append a checkpoint of the head as it is under the write lock, signed with `private_key`.
    An empty registry has nothing to sign (InputError)."""
    key = fingerprint(private_key.public_key())

    def build(entry_id: str, head: str | None, conn_: sqlite3.Connection):
        if head is None:
            raise InputError(Phrase("keys.nothing_to_sign"), file=str(path))
        count = conn_.execute("SELECT MAX(seq) FROM entries").fetchone()[0]
        at = timestamp()
        signature = private_key.sign(signed_bytes(count, head, at, key))
        payload = {"at": at, "count": count, "head": head, "key": key,
                   "signature": base64.b64encode(signature).decode("ascii")}
        return "checkpoint", payload, NO_COLUMNS
    return append(conn, path, [build])[0]


def checkpoint_of(seq: int, entry_id: str, digest: str, data: bytes) -> Checkpoint | None:
    """A checkpoint entry's payload read, or None when it is not a checkpoint's payload."""
    try:
        payload = orjson.loads(data)
        checkpoint = Checkpoint(seq, entry_id, digest, payload["count"], payload["head"], payload["at"],
                                payload["key"], payload["signature"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if isinstance(checkpoint.count, bool) or not isinstance(checkpoint.count, int) \
            or not all(isinstance(v, str) for v in (checkpoint.head, checkpoint.at, checkpoint.key,
                                                   checkpoint.signature)):
        return None
    return checkpoint


def checkpoints(conn: sqlite3.Connection) -> list[Checkpoint]:
    """Every checkpoint of the chain, oldest first (an unreadable one is left out: verify says it)."""
    found = []
    for seq, entry_id, digest, blob in conn.execute(
            "SELECT seq, id, hash, payload FROM entries WHERE kind = 'checkpoint' ORDER BY seq"):
        try:
            checkpoint = checkpoint_of(seq, entry_id, digest, unpack(blob))
        except Exception:  # noqa: BLE001 - zlib.error: verify names it
            checkpoint = None
        if checkpoint is not None:
            found.append(checkpoint)
    return found


def latest(conn: sqlite3.Connection) -> Checkpoint | None:
    """The last checkpoint of the chain (None when there is none)."""
    row = conn.execute("SELECT seq, id, hash, payload FROM entries WHERE kind = 'checkpoint' "
                       "ORDER BY seq DESC LIMIT 1").fetchone()
    return checkpoint_of(row[0], row[1], row[2], unpack(row[3])) if row else None


@dataclass(frozen=True)
class CheckpointProblem:
    """The first checkpoint that no longer holds, and why (a code the faces put in words)."""
    checkpoint: Checkpoint | None
    seq: int
    id: str
    code: str           # unreadable | key | signature | cut | rewritten | none
    detail: str = ""

    def as_dict(self) -> dict:
        return {"seq": self.seq, "id": self.id, "problem": self.code, "detail": self.detail,
                "checkpoint": self.checkpoint.as_dict() if self.checkpoint else None}


def check_checkpoints(conn: sqlite3.Connection, public_key) -> tuple[list[Checkpoint], CheckpointProblem | None]:
    """Every checkpoint's signature by `public_key`, and the entry each names still in the chain
    with the hash it signed, in one read snapshot. A chain without any checkpoint is a problem
    too (`none`): a key given means the auditor expects the agency's signature."""
    invalid_signature, _, _, _ = _crypto()
    key = fingerprint(public_key)
    conn.execute("BEGIN")
    try:
        rows = conn.execute("SELECT seq, id, hash, payload FROM entries WHERE kind = 'checkpoint' "
                            "ORDER BY seq").fetchall()
        hashes = {}
        if rows:
            wanted = sorted({seq for seq, *_ in rows})
            hashes = dict(conn.execute("SELECT seq, hash FROM entries WHERE seq <= ?", (wanted[-1],)))
    finally:
        conn.execute("COMMIT")
    found: list[Checkpoint] = []
    if not rows:
        return found, CheckpointProblem(None, 0, "", "none")
    for seq, entry_id, digest, blob in rows:
        try:
            checkpoint = checkpoint_of(seq, entry_id, digest, unpack(blob))
        except Exception:  # noqa: BLE001 - zlib.error, TypeError
            checkpoint = None
        if checkpoint is None:
            return found, CheckpointProblem(None, seq, entry_id, "unreadable")
        if checkpoint.key != key:
            return found, CheckpointProblem(checkpoint, seq, entry_id, "key", checkpoint.key)
        try:
            public_key.verify(base64.b64decode(checkpoint.signature, validate=True),
                              signed_bytes(checkpoint.count, checkpoint.head, checkpoint.at, checkpoint.key))
        except (invalid_signature, ValueError):
            return found, CheckpointProblem(checkpoint, seq, entry_id, "signature")
        if checkpoint.count < 1 or checkpoint.count >= seq:
            return found, CheckpointProblem(checkpoint, seq, entry_id, "cut", f"{checkpoint.count}")
        if hashes.get(checkpoint.count) != checkpoint.head:
            return found, CheckpointProblem(checkpoint, seq, entry_id, "rewritten", f"{checkpoint.count}")
        found.append(checkpoint)
    return found, None
