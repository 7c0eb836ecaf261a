"""The one scrubber for every output: what a document the doctor prints must not carry.

Two scopes:

- *secrets*, removed from every JSON document the doctor prints (``check --json``, ``explain
  --json``, ``inspect --json``, ``bench --json``, ``fleet --json``) and from ``report``: token shapes
  wherever they appear (Hugging Face, AWS, JWT, GitHub, GitLab, Slack, OpenAI-style, Google
  ``AIza…``, Stripe ``sk_live_…``, npm, PyPI, Azure ``AccountKey=``, PEM and PGP private keys),
  credentials in URLs, ``NAME=value`` where the name looks secret, values of environment variables
  whose name looks secret, and long random-looking strings;
- *identity*, removed by ``report`` (and ``check --redact``): this machine's host names (the short
  name of an FQDN too), user names, home folder and working directory, IP addresses in endpoints
  and URLs, GPU UUIDs (prefixes too) and serials.

Only *values* are rewritten, never dict keys: a redacted report is the same document with other
strings in it, so ``check --from`` re-diagnoses it as it did the original. Placeholders are stable
within a document (one GPU or one address keeps one placeholder), so relations survive.

Only an allowlist of environment variables is collected in the first place
(:data:`paddledoctor.probes.host.ENV_PREFIXES`); this is the second line of defence, applied to text
that may come from anywhere (paths, error messages, process names).
"""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import json
import math
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
# Whole words of a name (split at anything not a letter or digit) that make it secret: a Baidu
# cloud secret key (BCE_SK), its access key (BCE_AK), Hadoop's user,password pair
# (PADDLE_HDFS_UGI, hadoop.job.ugi), an Azure SAS signature (sig), a personal access token (PAT).
SECRET_NAME_WORDS = {"SK", "AK", "UGI", "SAS", "SIG", "PAT"}
# ... except these, which are well-known and not secret (PWD is the working directory).
NOT_SECRET_NAMES = {"PWD", "OLDPWD", "PADDLE_PSERVERS_IP_PORT_LIST"}

# Token shapes: (name, pattern). Each is specific enough not to hit versions, paths or hashes.
_END = r"(?![A-Za-z0-9_-])"
TOKEN_PATTERNS = [
    ("private-key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                               r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)")),
    ("huggingface", re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("github", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("gitlab", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}" + _END)),
    ("slack", re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}" + _END)),
    ("openai", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}" + _END)),
    ("google", re.compile(r"\bAIza[0-9A-Za-z_-]{30,}" + _END)),
    ("stripe", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b")),
    ("npm", re.compile(r"\bnpm_[A-Za-z0-9]{30,}\b")),
    ("pypi", re.compile(r"\bpypi-[A-Za-z0-9_-]{40,}" + _END)),
    ("azure", re.compile(r"(?<=AccountKey=)[A-Za-z0-9+/]{20,}={0,2}")),
]
# scheme://user:password@ (a password may hold "/"); scheme://host:8080/path@x is a port, kept.
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)"
                             r"(?P<cred>[^/\s@:]+(?::(?!\d+(?:/|$))[^\s@]*)?)@")
# NAME=value in free text (a command line, a URL query, a connection string). The value runs to
# the next space, ";" or "&", commas included: Hadoop's ugi is "user,password".
ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_.])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=(?!<)(?P<value>[^\s;&'\"]+)")
# A GPU by UUID, or by the prefix of one that CUDA_VISIBLE_DEVICES accepts (GPU-1a2b3c4d), MIG too.
GPU_UUID = re.compile(r"(?<![A-Za-z0-9])(?:MIG-GPU|GPU|MIG)-[0-9a-fA-F]{4,}(?:-[0-9a-fA-F]+)*"
                      r"(?:/\d+/\d+)?(?![A-Za-z0-9])")
FULL_GPU_UUID = re.compile(r"(?:GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*_[A-Z0-9_]+|[A-Z]{3,}")
# Keys whose values identify one physical device.
DEVICE_ID_KEYS = {"uuid", "serial", "board_id", "board_serial"}

# Addresses. Free text has versions of four numbers (cuDNN 9.1.0.70, TensorRT 10.0.1.6), so an
# IPv4 address is taken there only with a port, after "://" or "@"; under a key that names an
# endpoint (POD_IP, PADDLE_MASTER, PADDLE_TRAINER_ENDPOINTS) every address is.
IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
IPV4_IN_TEXT = re.compile(rf"(?:(?<=://)|(?<=@)){IPV4}|{IPV4}(?=:\d{{1,5}}(?!\d))")
IPV4_ANY = re.compile(IPV4)
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[\w.-]+)?(?![\w:.])")
ENDPOINT_WORDS = {"ip", "ips", "endpoint", "endpoints", "master", "host", "hosts", "addr",
                  "address", "server", "servers", "pservers", "url", "uri", "peer", "peers",
                  "node", "nodes"}

# Long random-looking strings (a key of no known shape): 32+ characters of a token alphabet with
# upper case, lower case and digits, and an entropy no word, version or path reaches. SHA-256 and
# commit hashes are lower-case hex, so they never qualify.
RANDOM_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}")
RANDOM_MIN_LENGTH = 32
RANDOM_MIN_BITS = 4.0

# Words that are no one's name in a report: placeholders, and "root" (garbles "root cause").
NOT_NAMES = {"root", "localhost", "localhost.localdomain", "redacted", "host", "user", "cwd", "ip"}
IDENTITY = "identity and secrets"
SECRETS = "secrets"


def secret_name(name: str) -> bool:
    """Whether an environment variable (or a NAME in NAME=value) holds a secret by its name."""
    upper = name.upper()
    if upper in NOT_SECRET_NAMES:
        return False
    return (any(part in upper for part in SECRET_NAME_PARTS)
            or not SECRET_NAME_WORDS.isdisjoint(re.split(r"[^A-Z0-9]+", upper)))


def host_label(hostname: str) -> str:
    """A stable, non-reversible label for a host name, so that ranks on one host share a label
    (``host-3f9a1c``) without the report naming the host."""
    return "host-" + hashlib.sha256(hostname.encode("utf-8", "replace")).hexdigest()[:6]


def random_looking(token: str) -> bool:
    """A long string of mixed case and digits with the entropy of a random key."""
    core = token.rstrip("=")
    if len(core) < RANDOM_MIN_LENGTH:
        return False
    if not (any(c.isupper() for c in core) and any(c.islower() for c in core)
            and any(c.isdigit() for c in core)):
        return False
    counts: dict = {}
    for c in core:
        counts[c] = counts.get(c, 0) + 1
    bits = -sum(n / len(core) * math.log2(n / len(core)) for n in counts.values())
    return bits >= RANDOM_MIN_BITS


def _identity() -> dict:
    """This machine's names: what must not appear in a redacted report."""
    names = {"hostnames": set(), "users": set(), "homes": set(), "cwds": set()}
    for get in (socket.gethostname, lambda: os.uname().nodename):
        try:
            host = get()
        except Exception:  # noqa: BLE001 - a name we cannot read is a name we cannot leak
            continue
        if host:
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
        names["homes"].update({os.path.normpath(home), os.path.realpath(home)})
    for get in (os.getcwd, lambda: os.environ.get("PWD", "")):
        try:
            cwd = get()
        except OSError:
            continue
        if cwd:
            names["cwds"].update({os.path.normpath(cwd), os.path.realpath(cwd)})
    return names


def _keys(value: Any, into: set) -> set:
    """Every dict key of a document, lower case: the report's own vocabulary."""
    if isinstance(value, dict):
        for k, v in value.items():
            into.add(str(k).lower())
            _keys(v, into)
    elif isinstance(value, list):
        for v in value:
            _keys(v, into)
    return into


def _endpoint_key(key: str) -> bool:
    words = re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", key)
    return any(w.lower() in ENDPOINT_WORDS for w in words)


@dataclass
class Redactor:
    """Replaces secret text, and with ``identity`` this machine's names too. ``hostnames``,
    ``users``, ``homes`` and ``cwds`` default to this machine's; names that are words of the
    document's own vocabulary (``vocabulary``: a user called ``paddle``) are not names there. What
    was replaced is counted in ``hits`` by class, so the document can say what it removed."""

    hostnames: set = field(default_factory=set)
    users: set = field(default_factory=set)
    homes: set = field(default_factory=set)
    cwds: set = field(default_factory=set)
    identity: bool = True
    vocabulary: set = field(default_factory=set)
    hits: dict = field(default_factory=dict)
    _devices: dict = field(default_factory=dict)
    _addresses: dict = field(default_factory=dict)

    @classmethod
    def for_this_machine(cls, identity: bool = True) -> "Redactor":
        return cls(**_identity(), identity=identity)

    def __post_init__(self) -> None:
        # Longest first, so /home/alice/x is matched before /home/alice. A top-level folder as the
        # working directory ("/", "/tmp") names nobody, and would rewrite every system path.
        cwds = {c.rstrip("/") for c in self.cwds if c.rstrip("/").count("/") >= 2}
        paths = {h.rstrip("/"): "~" for h in self.homes if len(h.rstrip("/")) > 1}
        paths.update({c: "<cwd>" for c in cwds})
        self._paths = [(re.compile(re.escape(p) + r"(?![A-Za-z0-9_.-])"), paths[p],
                        "working directory" if paths[p] == "<cwd>" else "home folder")
                       for p in sorted(paths, key=len, reverse=True)]
        self._host_re = self._words(self.hostnames)
        self._user_re = self._words(self.users)

    def _words(self, names: set) -> re.Pattern | None:
        """Names as they appear: any case, next to "-", "_", "." or "/" (alice-laptop, ALICE_DATA),
        but not inside a longer word (bob in bobcat)."""
        names = sorted((n for n in names if len(n) >= 3 and n.lower() not in NOT_NAMES
                        and n.lower() not in self.vocabulary), key=len, reverse=True)
        if not names:
            return None
        return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9])",
                          re.IGNORECASE)

    def _count(self, what: str, n: int = 1) -> None:
        if n:
            self.hits[what] = self.hits.get(what, 0) + n

    def learn(self, document: Any) -> None:
        """Before a walk: the document's vocabulary, and its full GPU UUIDs in order, so that a
        prefix met first still gets the placeholder of the UUID it abbreviates."""
        self.vocabulary |= _keys(document, set())
        self._host_re = self._words(self.hostnames)
        self._user_re = self._words(self.users)
        for uuid in FULL_GPU_UUID.findall(json.dumps(document, default=str)):
            self.device_id(uuid, count=False)

    def device_id(self, value: str, count: bool = True) -> str:
        """The same GPU keeps the same placeholder throughout the document; a UUID prefix gets the
        placeholder of the UUID it abbreviates."""
        key = next((u for u in self._devices if u.startswith(value) and u != value), value)
        if key not in self._devices:
            self._devices[key] = f"GPU-<redacted-{len(self._devices) + 1}>"
        if count:
            self._count("GPU UUIDs/serials")
        return self._devices[key]

    def address(self, text: str) -> str:
        """An IP address's stable placeholder (<ip-1>); loopback and "any" say nothing and stay."""
        try:
            ip = ipaddress.ip_address(text.strip("[]").split("%")[0])
        except ValueError:
            return text
        if ip.is_loopback or ip.is_unspecified:
            return text
        if str(ip) not in self._addresses:
            self._addresses[str(ip)] = f"<ip-{len(self._addresses) + 1}>"
        self._count("IP addresses")
        return self._addresses[str(ip)]

    def secrets(self, value: str) -> str:
        """Secret shapes, wherever they are in the text."""
        for name, pattern in TOKEN_PATTERNS:
            value, n = pattern.subn(f"<redacted {name} token>", value)
            self._count(f"{name} tokens", n)
        value, n = URL_CREDENTIALS.subn(lambda m: f"{m.group('scheme')}{REDACTED}@", value)
        self._count("URL credentials", n)
        value = ASSIGNMENT.sub(self._assignment, value)
        return RANDOM_RUN.sub(self._random, value)

    def _assignment(self, m: re.Match) -> str:
        if not secret_name(m.group("name")):
            return m.group(0)
        self._count("secret values in text")
        return f"{m.group('name')}={REDACTED}"

    def _random(self, m: re.Match) -> str:
        run = m.group(0)
        if run.startswith("/"):  # a path: judged by its folders
            return "/".join(self._random_piece(p) for p in run.split("/"))
        return self._random_piece(run)

    def _random_piece(self, piece: str) -> str:
        # A GPU UUID is mixed case ("GPU-" and hex) but identity, not a secret: names() handles it.
        if not random_looking(piece) or GPU_UUID.fullmatch(piece):
            return piece
        self._count("random-looking strings")
        return "<redacted random string>"

    def names(self, value: str, endpoint: bool = False) -> str:
        """This machine's names, GPUs and addresses."""
        value = GPU_UUID.sub(lambda m: self.device_id(m.group(0)), value)
        value = IPV6.sub(lambda m: self.address(m.group(0)), value)
        value = (IPV4_ANY if endpoint else IPV4_IN_TEXT).sub(lambda m: self.address(m.group(0)), value)
        for pattern, placeholder, what in self._paths:
            value, n = pattern.subn(placeholder, value)
            self._count(what, n)
        for pattern, placeholder, what in ((self._host_re, "<host>", "host name"),
                                           (self._user_re, "<user>", "user name")):
            if pattern is not None:
                value, n = pattern.subn(placeholder, value)
                self._count(what, n)
        return value

    def text(self, value: str, key: str = "") -> str:
        value = self.secrets(value)
        return self.names(value, _endpoint_key(key)) if self.identity else value

    def value(self, value: Any, key: str = "", in_env: bool = False) -> Any:
        """Redact a JSON value; ``key`` is the name it is stored under. Keys are kept as they are."""
        if isinstance(value, dict):
            return {k: self.value(v, str(k), in_env=k == "env" or (in_env and isinstance(v, dict)))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key, in_env) for v in value]
        if isinstance(value, str):
            if self.identity and key.lower() in DEVICE_ID_KEYS and value:
                return self.device_id(value)
            if (in_env or ENV_NAME.fullmatch(key)) and secret_name(key) and value != REDACTED:
                self._count("secret environment values")
                return REDACTED
            return self.text(value, key)
        return value

    def record(self) -> dict:
        """What the document says about its redaction."""
        return {"redacted": True, "scope": IDENTITY if self.identity else SECRETS,
                "removed": dict(sorted(self.hits.items()))}


def scrub(document: Any, redactor: Redactor | None = None) -> Any:
    """A scrubbed copy of any JSON document (secrets only, unless the redactor says identity)."""
    redactor = redactor or Redactor.for_this_machine(identity=False)
    redactor.learn(document)
    return redactor.value(document)


def redact(document: dict, redactor: Redactor | None = None) -> dict:
    """A redacted copy of a report document (``Report.to_json()``), with what was removed recorded
    under ``redaction``."""
    redactor = redactor or Redactor.for_this_machine()
    out = scrub(document, redactor)
    out["redaction"] = redactor.record()
    return out


NOT_REDACTED = {"redacted": False, "removed": {}}
