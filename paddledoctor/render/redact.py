"""Redaction: what a support report must not carry.

A report is pasted into a public issue. Before it is rendered, :func:`redact` walks the whole JSON
document (keys and values, facts and findings) and replaces:

- this machine's host name (→ ``<host>``), the user's name (→ ``<user>``) and home folder (→ ``~``);
- GPU UUIDs and serial numbers (→ ``GPU-<redacted-1>``..., distinct GPUs stay distinct);
- the value of every environment variable whose *name* looks secret (``*TOKEN*``, ``*KEY*``...);
- credentials inside URLs (``https://user:pass@host`` → ``https://<redacted>@host``);
- well-known token shapes wherever they appear (Hugging Face ``hf_…``, AWS ``AKIA…``, JWTs, GitHub,
  GitLab, Slack and OpenAI-style keys).

Only an allowlist of environment variables is collected in the first place
(:data:`paddledoctor.probes.host.ENV_PREFIXES`); this is the second line of defence, applied to text
that may come from anywhere (paths, error messages, process names).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any

REDACTED = "<redacted>"

# Substrings (case-insensitive) of an environment variable's name that make its value a secret.
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PWD", "KEY", "CREDENTIAL",
                     "AUTH", "SESSION", "COOKIE", "DSN", "DATABASE_URL", "WEBHOOK", "PRIVATE",
                     "SIGNATURE", "CERT")
# ... except these, which are well-known and not secret (PWD is the working directory).
NOT_SECRET_NAMES = {"PWD", "OLDPWD", "PADDLE_PSERVERS_IP_PORT_LIST"}

# Token shapes: (name, pattern). Each is specific enough not to hit versions, paths or hashes.
TOKEN_PATTERNS = [
    ("huggingface", re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("github", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("gitlab", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("slack", re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}\b")),
    ("openai", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b")),
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)")),
]
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<cred>[^/\s@:]+(?::[^/\s@]*)?)@")
GPU_UUID = re.compile(r"\b(?:GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*_[A-Z0-9_]+|[A-Z]{3,}")
# Keys whose values identify one physical device.
DEVICE_ID_KEYS = {"uuid", "serial", "board_id", "board_serial"}


def secret_name(name: str) -> bool:
    upper = name.upper()
    return upper not in NOT_SECRET_NAMES and any(part in upper for part in SECRET_NAME_PARTS)


def host_label(hostname: str) -> str:
    """A stable, non-reversible label for a host name, so that ranks on one host share a label
    (``host-3f9a1c``) without the report naming the host."""
    return "host-" + hashlib.sha256(hostname.encode("utf-8", "replace")).hexdigest()[:6]


def _identity() -> dict:
    """This machine's names: what must not appear in a redacted report."""
    names = {"hostnames": set(), "users": set(), "homes": set()}
    for get in (socket.gethostname, lambda: os.uname().nodename):
        try:
            host = get()
        except Exception:  # noqa: BLE001 - a name we cannot read is a name we cannot leak
            continue
        if host and host not in ("localhost", "localhost.localdomain"):
            names["hostnames"].add(host)
            names["hostnames"].add(host.split(".")[0])
    for get in (getpass.getuser, lambda: os.environ.get("USER", ""), lambda: os.environ.get("LOGNAME", "")):
        try:
            user = get()
        except Exception:  # noqa: BLE001
            continue
        if user:
            names["users"].add(user)
    home = os.path.expanduser("~")
    if home and home not in ("/", "~"):
        names["homes"].add(os.path.normpath(home))
        names["homes"].add(os.path.realpath(home))
    return names


@dataclass
class Redactor:
    """Replaces identifying and secret text. ``hostnames``/``users``/``homes`` default to this
    machine's; what was replaced is counted in ``hits`` so the report can say what it removed."""

    hostnames: set = field(default_factory=set)
    users: set = field(default_factory=set)
    homes: set = field(default_factory=set)
    hits: dict = field(default_factory=dict)
    _devices: dict = field(default_factory=dict)

    @classmethod
    def for_this_machine(cls) -> "Redactor":
        return cls(**_identity())

    def __post_init__(self) -> None:
        # Longest first, so /home/alice/x is matched before /home/alice.
        self._homes = sorted({h.rstrip("/") for h in self.homes if len(h.rstrip("/")) > 1},
                             key=len, reverse=True)
        self._host_re = self._words(self.hostnames)
        # "root" as a user name identifies nobody, and redacting it would garble ordinary words.
        self._user_re = self._words({u for u in self.users if u not in ("root",)})

    @staticmethod
    def _words(names: set) -> re.Pattern | None:
        names = sorted((n for n in names if n), key=len, reverse=True)
        if not names:
            return None
        return re.compile(r"(?<![A-Za-z0-9_-])(?:" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_-])")

    def _count(self, what: str, n: int = 1) -> None:
        if n:
            self.hits[what] = self.hits.get(what, 0) + n

    def device_id(self, value: str) -> str:
        """The same GPU keeps the same placeholder throughout the report."""
        if value not in self._devices:
            self._devices[value] = f"GPU-<redacted-{len(self._devices) + 1}>"
        self._count("GPU UUIDs/serials")
        return self._devices[value]

    def text(self, value: str) -> str:
        for name, pattern in TOKEN_PATTERNS:
            value, n = pattern.subn(f"<redacted {name} token>", value)
            self._count("tokens", n)
        value, n = URL_CREDENTIALS.subn(lambda m: f"{m.group('scheme')}{REDACTED}@", value)
        self._count("URL credentials", n)
        value, n = GPU_UUID.subn(lambda m: self.device_id(m.group(0)), value)
        for home in self._homes:
            pattern = re.compile(re.escape(home) + r"(?=/|\b|$)")
            value, n = pattern.subn("~", value)
            self._count("home folder", n)
        if self._host_re is not None:
            value, n = self._host_re.subn("<host>", value)
            self._count("host name", n)
        if self._user_re is not None:
            value, n = self._user_re.subn("<user>", value)
            self._count("user name", n)
        return value

    def value(self, value: Any, key: str = "", in_env: bool = False) -> Any:
        """Redact a JSON value; ``key`` is the name it is stored under."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                child_env = k == "env" or (in_env and isinstance(v, dict))
                out[self.text(str(k))] = self.value(v, str(k), in_env=child_env)
            return out
        if isinstance(value, list):
            return [self.value(v, key, in_env) for v in value]
        if isinstance(value, str):
            if key.lower() in DEVICE_ID_KEYS and value:
                return self.device_id(value)
            if (in_env or ENV_NAME.fullmatch(key)) and secret_name(key):
                self._count("secret environment values")
                return REDACTED
            return self.text(value)
        return value

    def summary(self) -> str:
        if not self.hits:
            return "nothing identifying found"
        return ", ".join(f"{what} ({n})" for what, n in sorted(self.hits.items()))


def redact(document: dict, redactor: Redactor | None = None) -> dict:
    """A redacted copy of a report document (``Report.to_json()``), with what was removed recorded
    under ``redaction``."""
    redactor = redactor or Redactor.for_this_machine()
    out = redactor.value(document)
    out["redaction"] = {"redacted": True, "removed": dict(sorted(redactor.hits.items()))}
    return out
