"""Child probe of `paddledoctor fleet`, one per rank: join the other ranks through Paddle's own TCP
store (the one ``init_parallel_env`` uses, at PADDLE_MASTER), run a verified op on this rank's
device, then the collective check: all-reduce of known values (result verified), a barrier that names
the ranks that did not arrive, the all-reduce bus bandwidth for a few message sizes, the shared
``--dir`` test; then one all-reduce (MAX) gives every rank the cluster's verdict, and every rank's
report goes to rank 0 alone as JSON bytes (a gather of uint8 tensors, never pickle).

Run as ``python fleet_collective.py FD CONFIG_JSON``; writes JSON lines to file descriptor FD. Every
blocking step runs in a worker thread under a deadline; when it passes, the store (which answers even
when a collective hangs) says which ranks are behind, that is reported, and the process ends itself
(``os._exit``): a hung peer never hangs this rank. Standard library, numpy and paddle only; never
imports paddledoctor (its one channel, _channel.py, is a sibling of _start.py).
"""

import hashlib
import json
import os
import socket
import sys
import threading
import time
import traceback

from _channel import OUT, T0, emit_timed as emit, error_text  # _start.py puts its folder on sys.path

CFG = json.loads(sys.argv[2])
RANK = int(CFG["rank"])
WORLD = int(CFG["world_size"])
PREFIX = "paddledoctor/fleet/"
# Each waiting rank reads one counter per poll: 20 reads/s per rank, slowed down past 100 ranks so
# that rank 0's store serves at most ~2,000 reads/s however large the job.
POLL_S = 0.05 * max(1.0, WORLD / 100)
MEASURED = {}  # what this rank measured, added to its report before the reports are gathered


def finish(code=0):
    emit("done", seconds=round(time.monotonic() - T0, 3))
    OUT.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # a thread stuck in a collective must not keep this process alive


class Timeout(Exception):
    pass


def in_thread(fn, deadline):
    """fn() in a daemon thread; its result, its exception, or Timeout at the deadline."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        raise Timeout()
    if "error" in box:
        raise box["error"]
    return box.get("value")


class Board:
    """Who reached which step, kept in Paddle's TCP store. Arrival is one counter per step (each rank
    polls one key: O(1) per rank); the names of the ranks that are missing are read once, at the
    deadline, from one key per rank."""

    def __init__(self, store):
        self.store = store

    def count(self, step):
        return self.store.add(PREFIX + step, 0)

    def arrive(self, step):
        self.store.add(f"{PREFIX}{step}/{RANK}", 1)
        self.store.add(PREFIX + step, 1)

    def missing(self, step):
        """Who did not arrive. Only rank 0 names them (one key per rank: N reads); every other rank
        reads the one counter and says how many (N ranks naming N ranks would be N^2 reads of rank
        0's store at the moment it is busiest)."""
        if RANK != 0:
            return Count(WORLD - self.count(step))
        return [r for r in range(WORLD) if self.store.add(f"{PREFIX}{step}/{r}", 0) == 0]

    def barrier(self, step, deadline):
        """Arrive, then wait for everyone until the deadline: the ranks that did not arrive (rank 0),
        how many (the others)."""
        self.arrive(step)
        while time.monotonic() < deadline:
            if self.count(step) >= WORLD:
                return []
            time.sleep(POLL_S)
        return self.missing(step)


class Count(list):
    """Ranks that are missing, counted but not named (what a rank other than 0 knows): empty as a
    list, so that no rank is blamed by name, true when ``n`` ranks are missing."""

    def __init__(self, n):
        super().__init__()
        self.n = max(0, int(n))

    def __bool__(self):
        return self.n > 0


def named(missing, key="behind"):
    """Event fields for missing ranks: their names on rank 0, their count on the others."""
    if isinstance(missing, Count):
        return {key: None, "missing_count": missing.n} if missing.n else {key: None}
    return {key: list(missing) or None}


class Heartbeat:
    """Every rank bumps its own counter in the store from a thread of its own, on a connection of its
    own, while its main thread runs the collectives. When a step times out, a rank whose counter no
    longer moves is hung (stopped, deadlocked, its node gone); a rank whose counter moves is alive
    and waiting like us."""

    def __init__(self, core, host, port, life):
        self.period = 0.25 * max(1.0, WORLD / 100)
        self.store = core.TCPStore(host, port, False, 0, life)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                self.store.add(f"{PREFIX}beat/{RANK}", 1)
            except Exception:  # noqa: BLE001 - the store is gone: nothing left to tell
                return
            time.sleep(self.period)

    def stale(self, board, wait):
        """The ranks whose counter did not move in ``wait`` seconds (read on ``board``'s client).
        Rank 0 reads every rank's; the others only rank 0's (O(1) reads per rank): [0] when rank 0
        stopped, else None (unknown here: rank 0 names the others)."""
        watched = range(WORLD) if RANK == 0 else [0]
        before = [board.store.add(f"{PREFIX}beat/{r}", 0) for r in watched]
        time.sleep(wait)
        after = [board.store.add(f"{PREFIX}beat/{r}", 0) for r in watched]
        stopped = [r for r, a, b in zip(watched, after, before) if a == b and r != RANK]
        return stopped if RANK == 0 or stopped else None


HEART = {}


def master_endpoint():
    master = os.environ.get("PADDLE_MASTER") or os.environ.get("PADDLE_TRAINER_ENDPOINTS", "").split(",")[0]
    host, _, port = master.rpartition(":")
    return host, int(port)


def wait_for_port(host, port, deadline):
    """Until something listens at host:port. Paddle's client retries only every few seconds; a
    plain connect every 50 ms lets the ranks join as soon as rank 0 serves."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def join(core, deadline):
    """Meet the other ranks in a TCP store of Paddle's own at PADDLE_MASTER (the launcher reserved
    that port for the job's store). Rank 0 serves it without waiting for anyone (world size 1), so
    that it can watch who arrives and name who does not; the process group that init_parallel_env
    makes later gets its own store, at a port rank 0 publishes here, once everyone is known to be
    there (Paddle's own store constructor on rank 0 blocks, holding the GIL, until every rank has
    connected: no deadline could be kept around it)."""
    emit("stage", name="join the other ranks")
    host, port = master_endpoint()
    life = int(CFG["collective_s"]) + 60
    if RANK == 0:
        store = in_thread(lambda: core.TCPStore(host, port, True, 1, life), deadline)
        store.set(PREFIX + "nonce", os.urandom(8).hex())
        store.set(PREFIX + "pg_master", f"{host}:{free_port()}")
    else:
        if not wait_for_port(host, port, deadline):
            raise Timeout()
        store = in_thread(lambda: core.TCPStore(host, port, False, 0, life), deadline)
    board = Board(store)
    try:
        HEART["beat"] = in_thread(lambda: Heartbeat(core, host, port, life), deadline)
    except BaseException:  # noqa: BLE001 - without it a hung rank is named less precisely
        pass
    missing = board.barrier("join", deadline)
    if not missing:
        value = store.get(PREFIX + "pg_master")
        os.environ["PADDLE_MASTER"] = bytes(value).decode() if not isinstance(value, str) else value
    return board, missing


def device_of(paddle):
    gpus = os.environ.get("FLAGS_selected_gpus")
    if paddle.is_compiled_with_cuda() and gpus:
        return f"gpu:{gpus.split(',')[0]}"
    return "cpu"


def device_op(paddle, np, device):
    """A matmul with a known answer on this rank's device (exact in float32)."""
    paddle.set_device(device)
    a = ((np.arange(64 * 32).reshape(64, 32) % 7) - 3).astype("float32") / 4
    b = ((np.arange(32 * 16).reshape(32, 16) % 5) - 2).astype("float32") / 2
    t = time.monotonic()
    got = paddle.matmul(paddle.to_tensor(a), paddle.to_tensor(b)).numpy()
    seconds = time.monotonic() - t
    err = float(np.max(np.abs(got.astype("float64") - a.astype("float64") @ b.astype("float64"))))
    return {"device": device, "ok": err == 0.0, "max_abs_err": err, "seconds": round(seconds, 4)}


def all_reduce_known(paddle, dist, np):
    """Every rank adds (rank+1, (rank+1)^2, 1) and a ramp: the sums are known exactly."""
    n = 4096
    values = np.concatenate([np.array([RANK + 1, (RANK + 1) ** 2, 1], dtype="int64"),
                             np.arange(n, dtype="int64") * (RANK + 1)])
    t = paddle.to_tensor(values)
    start = time.monotonic()
    dist.all_reduce(t)
    seconds = time.monotonic() - start
    got = t.numpy()
    s1 = WORLD * (WORLD + 1) // 2
    want = np.concatenate([np.array([s1, WORLD * (WORLD + 1) * (2 * WORLD + 1) // 6, WORLD]),
                           np.arange(n, dtype="int64") * s1])
    wrong = int(np.sum(got != want))
    return {"ok": wrong == 0, "elements": int(values.size), "wrong_elements": wrong,
            "head": got[:3].tolist(), "expected_head": want[:3].tolist(),
            "seconds": round(seconds, 4)}


def bandwidth(paddle, dist, np, sizes, deadline):
    """All-reduce bus bandwidth: algbw = bytes / time, busbw = algbw * 2 (n - 1) / n (the traffic
    each rank's link carries in a ring all-reduce)."""
    rows = []
    for size in sizes:
        if time.monotonic() > deadline:
            rows.append({"bytes": size, "skipped": "no time left"})
            continue
        t = paddle.to_tensor(np.ones(max(1, size // 4), dtype="float32"))
        dist.all_reduce(t)  # warm-up (connections, buffers)
        iters = 5 if size <= (1 << 20) else 3
        start = time.monotonic()
        for _ in range(iters):
            dist.all_reduce(t)
        if hasattr(paddle.device, "synchronize") and not str(paddle.get_device()).startswith("cpu"):
            paddle.device.synchronize()
        seconds = (time.monotonic() - start) / iters
        algbw = size / seconds if seconds > 0 else None
        rows.append({"bytes": size, "seconds": round(seconds, 6), "iterations": iters,
                     "algbw_gbps": round(algbw / 1e9, 4) if algbw else None,
                     "busbw_gbps": round(algbw * 2 * (WORLD - 1) / WORLD / 1e9, 4) if algbw else None})
    return rows


def shared_dir(board, directory, deadline):
    """Each rank leaves a marker in the shared folder; each checks it sees rank 0's, rank 0 checks
    it sees everyone's. A node whose shared filesystem is not mounted writes into a local folder of
    the same name and sees nobody's markers."""
    nonce = board.store.get(PREFIX + "nonce")
    nonce = bytes(nonce).decode() if not isinstance(nonce, str) else nonce
    folder = os.path.join(directory, f".paddledoctor-fleet-{nonce}")
    mine = os.path.join(folder, f"rank-{RANK}")
    result = {"dir": directory}
    # The doctor removes these itself when this child is killed before it could (a stop signal, the
    # deadline): it learns their names here, before they exist.
    emit("marker", folder=folder, path=mine)
    OUT.flush()
    try:
        os.makedirs(folder, exist_ok=True)
        with open(mine, "w") as f:
            f.write(json.dumps({"rank": RANK}))
    except OSError as exc:
        result["write_error"] = f"{type(exc).__name__}: {exc.strerror or exc}"
    missing = board.barrier("dir_written", deadline)
    if missing:
        result.update(named(missing, "not_arrived"))
    try:
        seen = sorted(int(n.split("-", 1)[1]) for n in os.listdir(folder) if n.startswith("rank-"))
    except OSError:
        seen = []
    want = list(range(WORLD)) if RANK == 0 else [0]
    result["sees"] = [r for r in want if r in seen]
    result["does_not_see"] = [r for r in want if r not in seen]
    board.barrier("dir_checked", deadline)
    try:
        os.unlink(mine)
    except OSError:
        pass
    board.barrier("dir_cleaned", deadline)
    try:
        os.rmdir(folder)  # every rank tries: on an unshared folder only that rank's own is there
    except OSError:
        pass
    return result


def wait_for_report(path, deadline):
    """This rank's report from its doctor, waited for until the deadline; looked at once at least
    (read again for the gather, after the deadline has passed)."""
    report = {"rank": RANK, "unavailable": "this rank's own check did not finish in time"}
    while True:
        if os.path.exists(path):
            with open(path, "rb") as f:
                report = json.loads(f.read().decode("utf-8"))
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    report["measured"] = MEASURED
    return json.dumps(report, separators=(",", ":")).encode("utf-8")


def verdict_of(report):
    """This rank's part of the cluster's verdict as one integer, for the MAX all-reduce: 2 when its
    report fails the job, 1 on a warning, else 0. Its own check was judged by its doctor (the
    report's "verdict"); what this child measured only says ok or not (its "ok" fields, the shared
    folder's misses): a failed measure is what rank 0 judges PD901, PD903 or PD907."""
    measured = report.get("measured") or {}
    shared = measured.get("shared_dir") or {}
    failed = ("unavailable" in report or report.get("verdict") == "error"
              or (measured.get("device_op") or {}).get("ok") is False
              or (measured.get("all_reduce") or {}).get("ok") is False
              or bool(shared.get("write_error") or shared.get("does_not_see")))
    return 2 if failed else 1 if report.get("verdict") == "warn" else 0


def environment_hash(report):
    """A 62-bit hash of what PD904 compares (Paddle version and build, Python, paddledoctor): the
    ranks differ when the MAX of it and the MAX of its negation disagree."""
    figures = report.get("figures") or {}
    key = json.dumps([figures.get(k) for k in ("paddle", "build", "python", "doctor")])
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") >> 2


def gather_reports(paddle, dist, np, data):
    """The 1,000-rank way. One all-reduce (MAX) of four integers gives every rank the longest
    report, the cluster's verdict and whether the ranks' environments differ; then the reports go
    to rank 0 only (``gather``: rank 0 receives N x ~1 KiB, the others send theirs and receive
    nothing), padded with spaces (JSON ignores them) to the longest. Returns (reports, verdict):
    every rank's report on rank 0, this rank's own elsewhere."""
    mine = json.loads(data.decode("utf-8"))
    digest = environment_hash(mine)
    own = verdict_of(mine)
    head = paddle.to_tensor(np.array([len(data), own, digest, -digest], dtype="int64"))
    dist.all_reduce(head, op=dist.ReduceOp.MAX)
    longest, worst, high, neg_low = (int(x) for x in head.numpy())
    verdict = {"worst": worst, "mine": own, "environments_differ": high != -neg_low,
               "from": "all_reduce_max"}
    buf = np.full(longest, ord(" "), dtype="uint8")
    buf[:len(data)] = np.frombuffer(data, dtype="uint8")
    parts = [] if RANK == 0 else None
    dist.gather(paddle.to_tensor(buf), parts, dst=0)
    if RANK != 0:
        return [mine], verdict
    return [json.loads(bytes(p.numpy()).decode("utf-8")) for p in parts], verdict


def step(board, name, fn, deadline):
    """A collective step under the deadline. On a timeout or an error, the store says which ranks
    never reached this step."""
    emit("stage", name=name)
    board.arrive(f"step/{name}")
    try:
        return in_thread(fn, deadline)
    except Timeout:
        behind, hung = who_is_behind(board, name)
        emit("failed", step=name, outcome="timeout", **named(behind or hung or []),
             hung=bool(hung) and not behind,
             error=("every rank is alive, but the step did not finish" if hung == [] and not behind
                    else "rank 0's log names the ranks that are behind" if RANK and not behind
                    and hung is None else None),
             seconds=round(time.monotonic() - T0, 3))
        finish(3)
    except Exception as exc:  # noqa: BLE001 - e.g. a store that gave up waiting for a stopped rank
        behind, hung = who_is_behind(board, name)
        emit("failed", step=name, outcome="error", error=error_text(exc),
             **named(behind or hung or []), hung=bool(hung) and not behind,
             traceback=traceback.format_exc()[-2000:])
        finish(3)


def who_is_behind(board, name):
    """The ranks that never reached this step (a Count on ranks other than 0); else those whose
    heartbeat stopped (None: unknown)."""
    behind, hung = safe_missing(board, f"step/{name}"), None
    if not behind and "beat" in HEART:
        try:
            hung = in_thread(lambda: HEART["beat"].stale(board, 4 * HEART["beat"].period + 0.5),
                             time.monotonic() + 10)
        except BaseException:  # noqa: BLE001
            hung = None
    return behind, hung


def safe_missing(board, step_name):
    try:
        return in_thread(lambda: board.missing(step_name), time.monotonic() + 2)
    except BaseException:  # noqa: BLE001 - the store itself is gone (rank 0 died)
        return None


def main():
    join_deadline = T0 + CFG["join_s"]
    end = T0 + CFG["collective_s"]
    sys.path[0] = os.getcwd()
    emit("stage", name="import paddle")
    try:
        import numpy as np
        import paddle
        import paddle.distributed as dist
        from paddle.base import core
    except BaseException as exc:  # noqa: BLE001
        emit("failed", step="import paddle", outcome="error", error=error_text(exc))
        finish(3)
    emit("import", ok=True, version=getattr(paddle, "__version__", None),
         cuda=bool(paddle.is_compiled_with_cuda()))

    device = device_of(paddle)
    emit("stage", name=f"op on {device}")
    try:
        MEASURED["device_op"] = device_op(paddle, np, device)
    except Exception as exc:  # noqa: BLE001
        MEASURED["device_op"] = {"device": device, "ok": False, "error": error_text(exc)}
    emit("device", **MEASURED["device_op"])

    if WORLD < 2:
        emit("single", reason="one rank: init_parallel_env does nothing and collectives need two")
        report = wait_for_report(CFG["report_path"], end)
        emit("reports", reports=[json.loads(report.decode("utf-8"))])
        finish(0)

    try:
        board, missing = join(core, join_deadline)
    except Timeout:
        emit("failed", step="join the other ranks", outcome="timeout", behind=[0] if RANK else None,
             error=("the job's TCP store at PADDLE_MASTER did not answer: rank 0 is not running "
                    "the check" if RANK else "could not open a client to this rank's own store"))
        finish(3)
    except Exception as exc:  # noqa: BLE001
        emit("failed", step="join the other ranks", outcome="error", error=error_text(exc),
             behind=None)
        finish(3)
    emit("joined", **named(missing, "missing"), seconds=round(time.monotonic() - T0, 3))
    MEASURED["joined_after_s"] = round(time.monotonic() - T0, 3)
    # This rank's report goes to the store as soon as it is ready, so that when a rank is missing
    # (no collective possible) rank 0 can still show what every rank that came found. A report
    # that is not ready by its deadline is sent as "unavailable": the collectives still get their
    # time, and rank 0 names the rank (PD909).
    report_by = T0 + CFG["report_s"]
    report = wait_for_report(CFG["report_path"], report_by if not missing else join_deadline + 5)
    board.store.set(f"{PREFIX}report/{RANK}", report)  # (the gather below carries a newer one)
    if missing:
        emit("failed", step="join the other ranks", outcome="timeout", **named(missing))
        if RANK == 0:
            until = time.monotonic() + 5  # the ranks that came post their reports right after
            emit("reports", reports=[stored_report(board, r, until) for r in range(WORLD)])
        finish(3)

    pg_host, _, pg_port = os.environ["PADDLE_MASTER"].rpartition(":")

    def init():
        # As at the join: connect only once rank 0 listens (Paddle's client retries every few s).
        if RANK != 0 and not wait_for_port(pg_host, int(pg_port), end):
            raise RuntimeError(f"rank 0 did not open the process group's store at "
                               f"{pg_host}:{pg_port}")
        return dist.init_parallel_env()

    step(board, "init_parallel_env", init, end)
    MEASURED["all_reduce"] = step(board, "all_reduce", lambda: all_reduce_known(paddle, dist, np), end)
    emit("all_reduce", **MEASURED["all_reduce"])
    start = time.monotonic()
    step(board, "barrier", dist.barrier, end)
    emit("barrier", ok=True, seconds=round(time.monotonic() - start, 4))
    MEASURED["bandwidth"] = step(board, "bandwidth",
                                 lambda: bandwidth(paddle, dist, np, CFG["sizes"], end - 2), end)
    emit("bandwidth", rows=MEASURED["bandwidth"])
    if CFG.get("dir"):
        emit("stage", name="shared dir")
        MEASURED["shared_dir"] = shared_dir(board, CFG["dir"], end)
        emit("shared_dir", **MEASURED["shared_dir"])
    report = wait_for_report(CFG["report_path"], report_by)  # now with all this rank measured
    reports, verdict = step(board, "gather reports",
                            lambda: gather_reports(paddle, dist, np, report), end)
    emit("verdict", **verdict)
    emit("reports", reports=reports, at_rank=0)
    finish(0)


def stored_report(board, rank, until):
    if board.store.add(f"{PREFIX}join/{rank}", 0) == 0:
        return {"rank": rank, "unavailable": "did not join the check in time"}
    try:
        data = in_thread(lambda: board.store.get(f"{PREFIX}report/{rank}"),
                         max(until, time.monotonic() + 0.5))
        return json.loads(bytes(data).decode("utf-8"))
    except BaseException:  # noqa: BLE001
        return {"rank": rank, "unavailable": "joined, but its report was not in the store"}


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001
        emit("failed", step="fleet probe", outcome="error", error=error_text(exc),
             traceback=traceback.format_exc()[-2000:])
        finish(3)
