#!/usr/bin/env python3
"""spotlab monitoring benchmark: the driver (Python 3.11, stdlib + boto3).

Measures `spotlab up`'s CloudWatch side by side with moto's server mode where moto has the
same thing, in one run on 127.0.0.1, writes bench/monitoring-raw.json (every number) and
has report.py write bench/MONITORING.md from it (goals and ratios first). Run it through
bench/monitoring/run.sh, which makes the Python environment and oha (bench/ec2/setup.sh),
builds spotlab in release and runs this file with that environment's Python. Shared names,
goals and fixtures are in common.py; process handling, oha parsing and machine accounting
are bench/ec2/bench.py's.

Sections (all by default; --only picks some):
  ingest      per round: a fresh `spotlab up --time-scale 1`, the same on tmpfs, and a fresh
              moto_server; the exact PutMetricData bodies boto3 sends (AWS JSON 1.0,
              captured from botocore's `before-send` event) for the walkthrough's call (20
              datums) and a large call (1,000 datums with dimensions and Values/Counts
              arrays, which botocore gzips), each replayed with oha over keep-alive
              connections (8 for throughput, 1 for latency), one server at a time, order
              alternating by round; then each server's stored sample count is checked
              against the calls it answered
  alarms      per round, fresh servers: N alarms created one at a time (a new alarm each
              call: the 10 kinds' captured bodies renamed per metric), then PutMetricAlarm
              (an update of one alarm) and DescribeAlarms (a first page of 100; 100 named
              alarms) replayed with oha as above
  reports     spotlab only (moto has no such API): agents' native reports POSTed to
              /spotlab/v1/reports, every report new (run id, sequence number), counts and
              histograms from a real `spotlab agent` run, one report per POST (an agent's
              steady state) and 100 per POST (an agent's backlog); then the stored
              Sum(Success) and SampleCount are checked against what the reports carried
  evaluation  spotlab only (moto never evaluates an alarm): `spotlab up --time-scale 60`
              (a virtual minute per second), 1,000 metrics fed twice a second; the control
              plane's CPU over windows with no alarms, then with 10,000 alarms, then with
              none again; the difference is the evaluations' cost
  criterion   `cargo bench -p spotlab-bench --bench monitoring`: the same evaluation and
              ingest work in-process on `monitoring::Monitoring`, no HTTP, no journal
  profile     perf profiles of the control plane under reports and PutMetricData, and of
              criterion's evaluation (skipped when perf is missing or not allowed)

A correctness check that does not hold (a count spotlab stored that differs from what it
answered, a wrong answer, a refused call) stops the run with an error: no report is
written from a run whose numbers are not what they claim to be.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import multiprocessing
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import botocore
from botocore.config import Config

from common import (ALARM_CALLS, ALARM_KINDS, BIG_CHECK, BIG_CHECK_SAMPLES, CLK_TCK,
                    INGEST_CALLS, INSTANCE_BASE, METRICS, OTHER_LIMIT, PROCS, PROFILE_FRAMES, ROOT,
                    SECTIONS, SERIES_PER_REPORT, SERVERS, TMPFS, TMPFS_ROOT, WALKTHROUGH_CHECK,
                    WALKTHROUGH_CHECK_SAMPLES, Server, alarm_input, big_put_input, clean_env, ec2b,
                    feed_input, fmt, free_port, loadavg, log, machine_cpu, parse_oha, pct, rss_mib,
                    walkthrough_put_input, log_summary)
from report import write_report

REPLAY_HEADERS = ("Content-Type", "X-Amz-Target", "x-amzn-query-mode", "Content-Encoding",
                  "X-Amz-Date", "Authorization")


class CheckFailed(Exception):
    """A correctness check of the run did not hold: its numbers cannot be reported."""


def check(ok: bool, what: str) -> None:
    """Stops the run when `ok` is false; `what` says what should have held."""
    if not ok:
        raise CheckFailed(what)


# ------------------------------------------------------------------------ helpers

def cw_client(url: str, timeout=300):
    """A boto3 CloudWatch client for `url`, no retries (a refused call shows as one)."""
    return boto3.client(
        "cloudwatch", region_name="us-east-1", endpoint_url=url,
        aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      connect_timeout=10, read_timeout=timeout, max_pool_connections=2))


class Capture:
    """The last request botocore sent through a CloudWatch client (`before-send`)."""

    def __init__(self, client):
        self.last: dict | None = None
        client.meta.events.register("before-send.cloudwatch.*", self.hook)

    def hook(self, request, **_):
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        if hasattr(body, "read"):
            data = body.read()
            body.seek(0)
            body = data
        headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
        self.last = {"body": body or b"", "headers": headers}
        return None  # let the request go through


def captured(client, cap: Capture, method: str, kwargs: dict) -> tuple[dict, dict]:
    """Calls `method` through boto3; returns its answer and the request it sent (body and
    the headers a replay needs)."""
    cap.last = None
    answer = getattr(client, method)(**kwargs)
    if cap.last is None:
        raise RuntimeError(f"{method}: nothing captured")
    answer.pop("ResponseMetadata", None)
    req = cap.last
    return answer, {"body": req["body"],
                    "headers": {k: req["headers"][k] for k in REPLAY_HEADERS if k in req["headers"]}}


def body_record(request: dict) -> dict:
    """A captured request as the report shows it: its size on the wire, its headers but
    the signature's, and the start of its text (decompressed when gzipped)."""
    body = request["body"]
    if request["headers"].get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    text = body.decode(errors="replace")
    return {"bytes": len(request["body"]), "chars": len(text), "text": text[:2000],
            "headers": {k: v for k, v in request["headers"].items() if k not in ("Authorization", "X-Amz-Date")}}


def check_json(status: int, data: bytes, took: float) -> dict:
    """What an answer was: status, size, and for JSON the keys and alarm counts."""
    res = {"status": status, "bytes": len(data), "ms": took * 1000.0}
    try:
        doc = json.loads(data) if data.strip() else {}
    except ValueError as e:
        res["json"] = f"not JSON: {e}"
        res["head"] = data[:300].decode(errors="replace")
        return res
    res["json"] = "ok"
    if status != 200:
        res["error_code"] = doc.get("__type") or doc.get("code")
        res["error_message"] = doc.get("message") or doc.get("Message")
        return res
    if isinstance(doc, dict):
        res["keys"] = sorted(doc)[:10]
        if "MetricAlarms" in doc:
            res["alarms"] = len(doc["MetricAlarms"])
            res["next_token"] = bool(doc.get("NextToken"))
        if "accepted" in doc:
            res["accepted"], res["duplicates"] = doc.get("accepted"), doc.get("duplicates")
    return res


def expect(call: str, answer: dict, alarms: int | None = None) -> str | None:
    """What is wrong with a replayed answer for `call`, or None."""
    if answer["status"] != 200:
        return f"HTTP {answer['status']} {answer.get('error_code')}: {answer.get('error_message') or answer.get('head')}"
    if answer.get("json") != "ok":
        return f"HTTP 200 but {answer.get('json')}"
    if call.startswith("DescribeAlarms"):
        want = min(100, alarms or 0)
        if answer.get("alarms") != want:
            return f"{answer.get('alarms')} alarms in the answer, expected {want}"
        if call == "DescribeAlarms-100" and (alarms or 0) > 100 and not answer.get("next_token"):
            return "no NextToken with more than 100 alarms"
    return None


# What moto is known to do differently (its CloudWatch responses.py): DescribeAlarms ignores
# MaxRecords and NextToken and answers every alarm in one page. Reported as moto's answer,
# not as a failed replay.
def known_moto(call: str, problem: str | None) -> bool:
    return bool(problem) and call == "DescribeAlarms-100" and "alarms in the answer" in problem


def virtual_ms(port: int) -> int:
    """The control plane's virtual time (its health answer), ms since the epoch."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/spotlab/v1/health")
        doc = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    v = doc["virtual_time"]
    if isinstance(v, (int, float)):
        return int(v)
    t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return int(round(t.timestamp() * 1000))


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ------------------------------------------------------------- native report senders

def report_prefix(agent: int, run_id: str) -> str:
    """The start of agent `agent`'s report JSON, up to its sequence number: the same
    source fields as bench/benches/monitoring.rs's `report`."""
    return ('{"source":{"instance_id":"i-%017x","fleet_id":"fleet-bench-%d","instance_type":"%s",'
            '"availability_zone":"%s","run_id":"%s"},"seq":'
            % (INSTANCE_BASE + agent, agent % 4, ("t2.small", "c5.large", "m5.large", "t3.medium")[agent % 4],
               ("us-east-1a", "us-east-1b")[agent % 2], run_id))


def report_worker(port: int, worker: int, workers: int, batch: int, secs: float, tag: str,
                  templates: list[dict], agents: int, out) -> None:
    """Runs in a child process: POSTs new reports on one keep-alive connection for
    `secs`, and puts its counts and latencies on `out`. With `batch` 1, the worker's share
    of `agents` take turns, one report per POST stamped with the current second; with a
    larger `batch`, each POST is one agent's backlog: a new run's `batch` consecutive
    seconds. What the reports carried (successes, completed requests) is summed over the
    POSTs answered with HTTP 200 only."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    mine = list(range(worker, agents, workers))
    prefixes = [report_prefix(k, f"bench-{tag}-{k}") for k in mine]
    suffixes = [',"counts":%s,"latency_scheduled":"%s","latency_actual":"%s","last":false}'
                % (json.dumps(t["counts"], separators=(",", ":")), t["latency_scheduled"], t["latency_actual"])
                for t in templates]
    seqs = [0] * len(prefixes)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    times, statuses = [], {}
    sent_reports = accepted = dups = sum_success = sum_completed = 0
    problems: dict[str, int] = {}
    posts = 0
    t_end = time.monotonic() + secs
    cpu0 = time.process_time()
    while time.monotonic() < t_end:
        now = int(time.time())
        parts, used = [], []
        if batch == 1:
            a = posts % len(prefixes)
            seq = seqs[a]
            seqs[a] += 1
            j = seq % len(suffixes)
            parts.append(f'{prefixes[a]}{seq},"start":"{iso(now)}","end":"{iso(now + 1)}"{suffixes[j]}')
            used.append(j)
        else:
            prefix = report_prefix(mine[0], f"bench-{tag}-{mine[0]}-backlog{posts}")
            for seq in range(batch):
                j = seq % len(suffixes)
                second = now - batch + seq
                parts.append(f'{prefix}{seq},"start":"{iso(second)}","end":"{iso(second + 1)}"{suffixes[j]}')
                used.append(j)
        body = ("[" + ",".join(parts) + "]").encode()
        posts += 1
        t = time.perf_counter()
        try:
            conn.request("POST", "/spotlab/v1/reports", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            problems[repr(e)[:200]] = problems.get(repr(e)[:200], 0) + 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        took = time.perf_counter() - t
        statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
        sent_reports += len(parts)
        if resp.status == 200:
            times.append(took * 1000.0)
            answer = json.loads(data)
            accepted += answer.get("accepted", 0)
            dups += answer.get("duplicates", 0)
            sum_success += sum(templates[j]["counts"]["success"] for j in used)
            sum_completed += sum(templates[j]["completed"] for j in used)
        else:
            key = f"HTTP {resp.status}: {data[:200].decode(errors='replace')}"
            problems[key] = problems.get(key, 0) + 1
    conn.close()
    out.put({"worker": worker, "posts": posts, "reports": sent_reports, "accepted": accepted,
             "duplicates": dups, "status": statuses, "times": times, "problems": problems,
             "sum_success": sum_success, "sum_completed": sum_completed,
             "client_cpu_s": time.process_time() - cpu0})


# ------------------------------------------------------------------------ bench

class Feeder:
    """A thread replaying one PutMetricData body every INTERVAL_S seconds on one keep-alive
    connection (absolute schedule, so a slow answer does not shift later sends)."""

    INTERVAL_S = 0.5

    def __init__(self, port: int, request: dict):
        self.port, self.request = port, request
        self.calls = self.non200 = 0
        self.errors: dict[str, int] = {}
        self.times: list[float] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        due = time.monotonic()
        while not self.stopping.is_set():
            t = time.perf_counter()
            try:
                conn.request("POST", "/", body=self.request["body"], headers=self.request["headers"])
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as e:
                self.errors[repr(e)[:200]] = self.errors.get(repr(e)[:200], 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            else:
                self.times.append((time.perf_counter() - t) * 1000.0)
                self.calls += 1
                self.non200 += resp.status != 200
            due += self.INTERVAL_S
            self.stopping.wait(max(0.0, due - time.monotonic()))
        conn.close()

    def stop(self) -> dict:
        self.stopping.set()
        self.thread.join(timeout=70)
        return {"calls": self.calls, "non200": self.non200, "errors": self.errors,
                "p50_ms": pct(self.times, 50), "p99_ms": pct(self.times, 99)}


def analyse_evaluation(res: dict):
    """The alarms' share of the control plane's CPU, from the windows with and without
    them; stored as `res["analysis"]`."""
    windows = res["windows"]
    first_loaded = next((i for i, w in enumerate(windows) if w["alarms"] > 0), len(windows))
    base = [w for w in windows[:first_loaded] if w["alarms"] == 0]
    after = [w for w in windows[first_loaded:] if w["alarms"] == 0]
    loaded = [w for w in windows if w["alarms"] > 0]
    if not base or not loaded:
        return
    # The baseline is the feed alone before any alarm existed. The window after
    # DeleteAlarms is not one: once 10,000 alarms have been freed, glibc's malloc walks
    # long free lists (its profile is mostly `_int_malloc`) and the same feed costs
    # several times as much, which says nothing about evaluation. The feed's own slow
    # growth as the store fills is counted as the alarms' (an overestimate).
    base_level = sum(w["core"] for w in base) / len(base)

    def baseline(_t: float) -> float:
        return base_level

    for w in loaded:
        w["baseline_core"] = baseline(w["t_mid"])
        w["extra_core"] = w["core"] - w["baseline_core"]
    base_core = sum(w["baseline_core"] for w in loaded) / len(loaded)
    load_core = sum(w["core"] for w in loaded) / len(loaded)
    extra_core = load_core - base_core
    # Per virtual minute: the windows' extra CPU over the minutes they crossed.
    extra_cpu = sum(w["extra_core"] * w["wall_s"] for w in loaded)
    minutes = sum(w["virtual_minutes"] for w in loaded)
    evaluations = minutes * res["alarms"]
    res["analysis"] = {
        "baseline_core": base_core, "loaded_core": load_core, "extra_core": extra_core,
        "extra_cpu_s": extra_cpu, "virtual_minutes": minutes, "evaluations": evaluations,
        "evaluations_per_s": evaluations / sum(w["wall_s"] for w in loaded),
        "cpu_ms_per_virtual_minute": extra_cpu * 1000.0 / minutes if minutes else None,
        "cpu_us_per_evaluation": extra_cpu * 1e6 / evaluations if evaluations else None,
        # A virtual minute lasts 60 s of wall time at time scale 1, and 1 s at 60.
        "core_at_scale_1": extra_cpu / minutes / 60.0 if minutes else None,
        "core_at_scale_60": extra_cpu / minutes if minutes else None,
        "baseline_spread": [min(w["core"] for w in base), max(w["core"] for w in base)],
        "after_core": sum(w["core"] for w in after) / len(after) if after else None,
        "loaded_spread": [min(w["core"] for w in loaded), max(w["core"] for w in loaded)],
    }


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """Every process's command name and utime+stime in seconds, from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[int(entry)] = (comm, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def fdatasync_ms(directory: Path, n: int = 40) -> dict:
    """p50 and p99 of fdatasync after a 4 KiB append, in `directory`: what one journal
    commit waits for at least."""
    path = directory / "fsync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - t) * 1000.0)
    finally:
        os.close(fd)
        path.unlink()
    return {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "n": n}


class Bench:
    def __init__(self, args):
        self.args = args
        q = self.quick = args.quick
        self.rounds = args.rounds or (1 if q else 2)
        self.replay_s = args.replay_duration or (3 if q else 6)
        self.latency_s = args.latency_duration or (2 if q else 4)
        self.connections = args.connections
        self.report_workers = args.report_workers
        self.alarms_n = args.alarms or (1_000 if q else 10_000)
        self.eval_alarms = 10_000
        self.window_s = args.window or (6 if q else 15)
        self.eval_windows = 1 if q else 3
        self.warm_minutes = 20
        self.sdk_n = 30 if q else 200
        self.idle_wait_s = 3.0 if q else 5.0
        self.spotlab = args.spotlab
        cache = Path(os.environ.get("SPOTLAB_BENCH_CACHE", Path.home() / ".cache" / "spotlab-bench"))
        self.oha = shutil.which("oha", path=str(cache / "bin")) or shutil.which("oha")
        self.moto = str(Path(sys.executable).parent / "moto_server")
        self.tmp = Path(tempfile.mkdtemp(prefix="spotlab-monitoring-"))
        # State directories of the tmpfs variant (None when there is no writable tmpfs).
        self.tmpfs: Path | None = None
        if TMPFS_ROOT.is_dir() and os.access(TMPFS_ROOT, os.W_OK):
            self.tmpfs = Path(tempfile.mkdtemp(prefix="spotlab-monitoring-", dir=TMPFS_ROOT))
        self.raw: dict = {"rounds": []}
        self.notes: list[str] = []
        self.commands: dict[str, str] = {}
        # Other processes' CPU seen while waiting for an idle machine: command -> CPU s.
        self.others: dict[str, float] = {}
        self.seq = 0

    # ------------------------------------------------------------------ setup
    def preflight(self):
        missing = [n for n, p in (("spotlab", self.spotlab), ("oha", self.oha), ("moto_server", self.moto))
                   if not p or not Path(p).exists()]
        if missing:
            sys.exit(f"missing tools: {', '.join(missing)} (run bench/ec2/setup.sh and "
                     "cargo build --release -p spotlab; run this file with the venv's python)")

    def facts(self) -> dict:
        # Bench.facts of the EC2 benchmark reads only these two attributes.
        holder = type("H", (), {"spotlab": self.spotlab, "oha": self.oha})()
        facts = ec2b.Bench.facts(holder)
        df = subprocess.run(["df", "-hT", str(self.tmp)], capture_output=True, text=True).stdout.splitlines()
        facts["disk"] = {"df": df[-1] if df else "n/a", "fdatasync": fdatasync_ms(self.tmp)}
        if self.tmpfs:
            facts["tmpfs"] = {"path": str(TMPFS_ROOT), "fdatasync": fdatasync_ms(self.tmpfs)}
        return facts

    def path(self, stem: str) -> Path:
        self.seq += 1
        return self.tmp / f"{self.seq:03d}-{stem}"

    def start_spotlab(self, *, time_scale: int, label: str, on_tmpfs: bool = False) -> Server:
        """A fresh `spotlab up`, its state directory in the run's temporary directory on
        disk, or on tmpfs (`on_tmpfs`, the server then named TMPFS)."""
        port = free_port()
        root = self.tmpfs if on_tmpfs else self.tmp
        state = root / f"{label}-state-{port}"
        cmd = [self.spotlab, "up", "--state-dir", str(state), "--listen", f"127.0.0.1:{port}",
               "--time-scale", str(time_scale), "--seed", "1"]
        mark = uuid.uuid4().hex
        PROCS.marks.append(mark)
        env = clean_env()
        env[ec2b.RUN_MARK] = mark
        name = TMPFS if on_tmpfs else "spotlab"
        server = Server(name, cmd, port, self.tmp, env=env, announce="spotlab up: local cloud at", mark=mark)
        if not server.first_line or not server.first_line[0].startswith("spotlab up: local cloud at http://"):
            raise RuntimeError(f"spotlab up printed {server.first_line!r}")
        shown = " ".join(shlex.quote(c) for c in cmd).replace(str(self.tmp), "$TMP")
        if self.tmpfs:
            shown = shown.replace(str(self.tmpfs), "$TMPFS")
        self.commands.setdefault(f"spotlab up ({label}{', tmpfs' if on_tmpfs else ''})", shown)
        return server

    def start_moto(self) -> Server:
        port = free_port()
        server = Server("moto", [self.moto, "-H", "127.0.0.1", "-p", str(port)], port, self.tmp)
        self.commands.setdefault("moto", "moto_server -H 127.0.0.1 -p PORT")
        return server

    def wait_idle(self, limit_s: float | None = None) -> dict:
        """Waits (at most `limit_s`) until the machine uses under OTHER_LIMIT cores over a
        second, so each load starts on a machine as idle as it gets; notes which other
        processes were busy."""
        limit_s = limit_s or self.idle_wait_s
        t0 = time.monotonic()
        while True:
            b0, p0 = machine_cpu()[0], cpu_by_process()
            time.sleep(1.0)
            cores = (machine_cpu()[0] - b0) / CLK_TCK
            waited = time.monotonic() - t0
            ours = {os.getpid()} | {p.pid for p in PROCS.live}
            for pid, (comm, cpu) in cpu_by_process().items():
                if pid not in ours and pid in p0 and cpu > p0[pid][1]:
                    self.others[comm] = self.others.get(comm, 0.0) + cpu - p0[pid][1]
            if cores < OTHER_LIMIT or waited >= limit_s:
                if cores >= OTHER_LIMIT:
                    log(f"  machine still busy ({cores:.2f} cores) after {waited:.0f} s: going on")
                return {"cores": cores, "waited_s": waited}

    # ------------------------------------------------------------------ raw sends
    def raw_send(self, server: Server, body: bytes, headers: dict, times=1) -> list[dict]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        out = []
        try:
            for _ in range(times):
                t = time.perf_counter()
                conn.request("POST", "/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out.append(check_json(resp.status, data, time.perf_counter() - t))
        finally:
            conn.close()
        return out

    def oha_run(self, server: Server, call: str, fx: dict, conns: int, secs: int) -> dict:
        body_path = self.path(f"{server.name}-{call}.body")
        body_path.write_bytes(fx["body"])
        cmd = [self.oha, "-z", f"{secs}s", "-c", str(conns), "--no-tui", "-w", "-m", "POST"]
        for k, v in fx["headers"].items():
            cmd += ["-H", f"{k}: {v}"]
        cmd += ["-D", str(body_path), "--output-format", "json", server.url + "/"]
        shown = ["oha"] + [("'" + c.split(":")[0] + ": ...'" if c.startswith(("Authorization:", "X-Amz-Date:"))
                            else shlex.quote(c)) for c in cmd[1:]]
        shown = " ".join(shown).replace(str(body_path), "BODY-FILE").replace(server.url, "http://127.0.0.1:PORT")
        self.commands.setdefault(f"oha c{conns} {call}", shown)
        out_path = body_path.with_suffix(".json")
        log_mark = server.stderr_path.stat().st_size
        busy0 = machine_cpu()[0]
        cpu0 = server.cpu()
        t0 = time.monotonic()
        with open(out_path, "wb") as out, open(body_path.with_suffix(".err"), "wb") as err:
            p = PROCS.add(subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True, env=clean_env()))
            try:
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
            finally:
                PROCS.live.remove(p)
        wall = time.monotonic() - t0
        server_cpu = server.cpu() - cpu0
        busy = (machine_cpu()[0] - busy0) / CLK_TCK
        res = parse_oha(out_path.read_text(errors="replace"))
        res.update({"connections": conns, "seconds": secs, "rc": p.returncode, "wall_s": wall,
                    "server_cpu_s": server_cpu, "server_core": server_cpu / wall,
                    "oha_cpu_s": ru.ru_utime + ru.ru_stime,
                    "other_core": max(0.0, busy - server_cpu - ru.ru_utime - ru.ru_stime) / wall})
        if res.get("responses"):
            res["server_cpu_ms_per_req"] = server_cpu * 1000.0 / res["responses"]
        if p.returncode != 0 or "parse_error" in res:
            res["stderr"] = body_path.with_suffix(".err").read_text(errors="replace")[-1000:]
        if res.get("non200_share"):
            with open(server.stderr_path, "rb") as f:
                f.seek(log_mark)
                res["server_log"] = log_summary(f.read(4_000_000).decode(errors="replace"))
        return res

    def replay_call(self, server: Server, call: str, fx: dict, alarms: int | None = None) -> dict:
        """`fx` replayed with oha, c8 then c1, with one answer checked before and after.
        A wrong answer from spotlab stops the run; moto's are recorded (what it is known to
        do differently is a note, not a problem)."""
        entry: dict = {"body_bytes": len(fx["body"]), "idle": self.wait_idle(),
                       "gzip": fx["headers"].get("Content-Encoding") == "gzip"}
        before = self.raw_send(server, fx["body"], fx["headers"], times=2)
        entry["verify_before"] = before
        problem = expect(call, before[0], alarms)
        if problem and server.name == "moto" and known_moto(call, problem):
            entry["answer_note"] = problem
            log(f"  moto {call}: {problem} (moto ignores MaxRecords)")
            problem = None
        elif problem:
            entry["problem"] = problem
            log(f"  ! {server.name} {call}: {problem}")
        check(not (problem and server.name != "moto"), f"{server.name} answered {call} wrongly: {problem}")
        entry["c8"] = self.oha_run(server, call, fx, self.connections, self.replay_s)
        entry["c1"] = self.oha_run(server, call, fx, 1, self.latency_s)
        after = self.raw_send(server, fx["body"], fx["headers"])[0]
        entry["verify_after"] = after
        late = expect(call, after, alarms)
        if late and not problem and not (server.name == "moto" and known_moto(call, late)):
            entry["problem"] = "after the load: " + late
            log(f"  ! {server.name} {call}: {entry['problem']}")
            check(server.name == "moto", f"{server.name} answered {call} wrongly after the load: {late}")
        entry["sent_200"] = (sum(1 for a in before + [after] if a["status"] == 200)
                             + entry["c8"].get("ok", 0) + entry["c1"].get("ok", 0))
        c8, c1 = entry["c8"], entry["c1"]
        log(f"  {server.name:13s} {call:24s} c{self.connections}: {fmt(c8.get('ok_rps'))} ok req/s "
            f"(non-200 {fmt((c8.get('non200_share') or 0) * 100, 1)}%), p50 {fmt(c8.get('p50_ms'))} ms, "
            f"p99 {fmt(c8.get('p99_ms'))} ms, {fmt(c8.get('server_cpu_ms_per_req'), 3)} CPU ms/req; "
            f"c1: p50 {fmt(c1.get('p50_ms'))} ms, p99 {fmt(c1.get('p99_ms'))} ms")
        return entry

    def sdk_view(self, server: Server, method: str, kwargs: dict, n: int) -> dict:
        """The call through boto3, `n` times one after another from one client."""
        c = cw_client(server.url)
        getattr(c, method)(**kwargs)  # warm the client
        times, errors = [], {}
        t0 = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            try:
                getattr(c, method)(**kwargs)
                times.append((time.perf_counter() - t) * 1000.0)
            except botocore.exceptions.ClientError as e:
                code = e.response.get("Error", {}).get("Code", "?")
                errors[code] = errors.get(code, 0) + 1
        total = time.perf_counter() - t0
        return {"n": n, "ok": len(times), "errors": errors, "calls_per_s": len(times) / total if total else None,
                "p50_ms": pct(times, 50), "p99_ms": pct(times, 99)}

    def stored_samples(self, server: Server, series: dict, since: float) -> float:
        """SampleCount of `series` stored since `since` (wall time; the servers run at
        time scale 1), summed over hours."""
        c = cw_client(server.url)
        hour = {"minute": 0, "second": 0, "microsecond": 0}
        start = dt.datetime.fromtimestamp(since - 3600, dt.timezone.utc).replace(**hour)
        end = dt.datetime.fromtimestamp(time.time() + 3600, dt.timezone.utc).replace(**hour)
        r = c.get_metric_statistics(StartTime=start, EndTime=end, Period=3600, Statistics=["SampleCount"], **series)
        return sum(p["SampleCount"] for p in r["Datapoints"])

    def ingest_servers(self, rnd: int) -> list[str]:
        """This round's servers in the order they take turns (reversed every other round)."""
        names = ["spotlab"] + ([TMPFS] if self.tmpfs else []) + ["moto"]
        return names if rnd % 2 == 0 else list(reversed(names))

    # ------------------------------------------------------------------ ingest
    def section_ingest(self, rnd: int, record: dict):
        order = self.ingest_servers(rnd)
        record["ingest_order"] = order
        servers: dict[str, Server] = {}
        try:
            servers["spotlab"] = self.start_spotlab(time_scale=1, label="ingest")
            if TMPFS in order:
                servers[TMPFS] = self.start_spotlab(time_scale=1, label="ingest", on_tmpfs=True)
            servers["moto"] = self.start_moto()
            since = time.time()
            fx: dict = {}
            for name in order:
                c = cw_client(servers[name].url)
                cap = Capture(c)
                fx[name] = {}
                for call, kwargs in (("PutMetricData-20", walkthrough_put_input()),
                                     ("PutMetricData-1000", big_put_input())):
                    _, req = captured(c, cap, "put_metric_data", kwargs)
                    fx[name][call] = req
            if rnd == 0:
                for call, request in fx["spotlab"].items():
                    self.raw.setdefault("bodies", {})[call] = body_record(request)
            for call in INGEST_CALLS:
                for name in order:
                    record["calls"].setdefault(call, {})[name] = self.replay_call(servers[name], call, fx[name][call])
            # What each server stored: every answered call's datums, none lost, none twice.
            for name in order:
                checks = {}
                for call, series, per in (("PutMetricData-20", WALKTHROUGH_CHECK, WALKTHROUGH_CHECK_SAMPLES),
                                          ("PutMetricData-1000", BIG_CHECK, BIG_CHECK_SAMPLES)):
                    # The answered replays, plus the boto3 call that captured the body.
                    expected = per * (record["calls"][call][name]["sent_200"] + 1)
                    got = self.stored_samples(servers[name], series, since)
                    exact = abs(got - expected) < 0.5
                    checks[call] = {"expected": expected, "stored": got, "exact": exact}
                    log(f"  {name:13s} {call:24s} stored sample count {fmt(got)} for {expected:,} answered: "
                        f"{'exact' if exact else 'DIFFERENT'}")
                    check(exact or name == "moto",
                          f"{name} stored a sample count of {got} for {call} where {expected} were answered")
                record.setdefault("stored", {})[name] = checks
            for name in order:
                sdk = self.sdk_view(servers[name], "put_metric_data", walkthrough_put_input(), self.sdk_n)
                record.setdefault("sdk", {})[name] = sdk
                log(f"  {name:13s} PutMetricData-20 boto3: {fmt(sdk['calls_per_s'])} calls/s, "
                    f"p50 {fmt(sdk['p50_ms'])} ms, p99 {fmt(sdk['p99_ms'])} ms")
                check(sdk["ok"] == sdk["n"] or name == "moto", f"{name} refused boto3 calls: {sdk['errors']}")
            record["rss_mib"] = {name: rss_mib(servers[name].proc.pid) for name in order}
        finally:
            for name in list(servers):
                record.setdefault("stopped", {})[f"ingest-{name}"] = servers[name].stop()

    # ------------------------------------------------------------------ alarms API
    def alarm_bodies(self, server: Server, n: int) -> tuple[list[bytes], dict]:
        """Bodies creating `n` alarms (the 10 kinds captured from boto3 once each, renamed
        per metric) and their headers; the first alarm of each kind is created by boto3."""
        c = cw_client(server.url)
        cap = Capture(c)
        kinds = {}
        headers = None
        for kind in range(ALARM_KINDS):
            _, req = captured(c, cap, "put_metric_alarm", alarm_input(kind * METRICS))
            kinds[kind] = req["body"]
            headers = req["headers"]
        bodies = []
        per_kind = max(1, n // ALARM_KINDS)
        for kind in range(ALARM_KINDS):
            for m in range(per_kind):
                bodies.append(kinds[kind].replace(b"host-0000", f"host-{m:04d}".encode()))
        return bodies, headers

    def create_alarms(self, server: Server, bodies: list[bytes], headers: dict) -> dict:
        """One PutMetricAlarm per body, one at a time on one keep-alive connection."""
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        times, status, problems = [], {}, {}
        cpu0 = server.cpu()
        t0 = time.perf_counter()
        try:
            for body in bodies:
                t = time.perf_counter()
                conn.request("POST", "/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                took = time.perf_counter() - t
                status[str(resp.status)] = status.get(str(resp.status), 0) + 1
                if resp.status == 200:
                    times.append(took * 1000.0)
                else:
                    key = data[:200].decode(errors="replace")
                    problems[key] = problems.get(key, 0) + 1
        finally:
            conn.close()
        total = time.perf_counter() - t0
        cpu = server.cpu() - cpu0
        return {"n": len(bodies), "ok": len(times), "status": status, "total_s": total,
                "calls_per_s": len(times) / total if total else None, "p50_ms": pct(times, 50),
                "p99_ms": pct(times, 99), "server_cpu_ms_per_call": cpu * 1000.0 / len(bodies) if bodies else None,
                "problems": dict(list(problems.items())[:5])}

    def count_alarms(self, server: Server) -> dict:
        """Alarms by state, through boto3's paginator."""
        c = cw_client(server.url)
        states: dict[str, int] = {}
        for page in c.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"],
                                                                PaginationConfig={"PageSize": 100}):
            for a in page["MetricAlarms"]:
                states[a["StateValue"]] = states.get(a["StateValue"], 0) + 1
        return states

    def section_alarms(self, rnd: int, record: dict):
        order = self.ingest_servers(rnd)
        record["alarms_order"] = order
        total = self.alarms_n // ALARM_KINDS * ALARM_KINDS
        record["alarms_total"] = total
        servers: dict[str, Server] = {}
        try:
            servers["spotlab"] = self.start_spotlab(time_scale=1, label="alarms")
            if TMPFS in order:
                servers[TMPFS] = self.start_spotlab(time_scale=1, label="alarms", on_tmpfs=True)
            servers["moto"] = self.start_moto()
            create: dict = {}
            for name in order:
                self.wait_idle()
                bodies, headers = self.alarm_bodies(servers[name], self.alarms_n)
                res = self.create_alarms(servers[name], bodies, headers)
                res["states"] = self.count_alarms(servers[name])
                create[name] = res
                log(f"  {name:13s} create {res['n']:,} alarms one at a time: {fmt(res['calls_per_s'])} calls/s, "
                    f"p50 {fmt(res['p50_ms'])} ms, p99 {fmt(res['p99_ms'])} ms; alarms then: {res['states']}"
                    + (f"; status {res['status']}" if set(res["status"]) != {"200"} else ""))
                if name != "moto":
                    check(res["ok"] == res["n"], f"{name} refused alarms: {res['status']} {res['problems']}")
                    check(sum(res["states"].values()) == total,
                          f"{name} holds {sum(res['states'].values())} alarms after creating {total}")
            record["create_alarms"] = create
            # The tmpfs variant is only for creation (every new alarm is journaled); the
            # replays below are of the pair.
            if TMPFS in servers:
                record.setdefault("stopped", {})[f"alarms-{TMPFS}"] = servers.pop(TMPFS).stop()
            fx: dict = {}
            for name in SERVERS:
                c = cw_client(servers[name].url)
                cap = Capture(c)
                _, put_req = captured(c, cap, "put_metric_alarm", alarm_input(0))
                desc_answer, desc_req = captured(c, cap, "describe_alarms", {"MaxRecords": 100})
                _, names_req = captured(c, cap, "describe_alarms", {"AlarmNames": [
                    alarm_input(m)["AlarmName"] for m in range(100)], "MaxRecords": 100})
                one = c.describe_alarms(AlarmNames=[alarm_input(0)["AlarmName"]])["MetricAlarms"]
                fx[name] = {"PutMetricAlarm": put_req, "DescribeAlarms-100": desc_req,
                            "DescribeAlarms-names-100": names_req}
                record.setdefault("answers", {})[name] = {
                    "describe_first_page": len(desc_answer.get("MetricAlarms", [])),
                    "next_token": bool(desc_answer.get("NextToken")),
                    "alarm0": {k: str(v) for k, v in (one[0] if one else {}).items()
                               if k in ("StateValue", "StateReason", "Statistic", "Threshold",
                                        "EvaluationPeriods", "TreatMissingData")}}
            if rnd == 0:
                for call in ALARM_CALLS:
                    self.raw.setdefault("bodies", {})[call] = body_record(fx["spotlab"][call])
            for call in ALARM_CALLS:
                for name in (n for n in order if n in SERVERS):
                    record["calls"].setdefault(call, {})[name] = self.replay_call(
                        servers[name], call, fx[name][call], alarms=total)
            record["rss_mib_alarms"] = {name: rss_mib(servers[name].proc.pid) for name in SERVERS}
        finally:
            for name in list(servers):
                record.setdefault("stopped", {})[f"alarms-{name}"] = servers[name].stop()

    # ------------------------------------------------------------------ reports
    def real_report_templates(self) -> dict:
        """Reports from a real `spotlab agent` run against a loopback `spotlab target`:
        their counts and encoded histograms are the templates of every report sent."""
        tport = free_port()
        target = Server("target", [self.spotlab, "target", "--listen", f"127.0.0.1:{tport}",
                                   "--rate", "100000", "--burst", "100000"], tport, self.tmp)
        path = self.tmp / "agent-reports.jsonl"
        cmd = [self.spotlab, "agent", "--url", f"http://127.0.0.1:{tport}/", "--callers", "2", "--rate", "50",
               "--duration", "4s", "--imds", "off", "--report", str(path),
               "--checkpoint", f"file://{self.tmp}/checkpoints/"]
        self.commands["spotlab agent (report templates)"] = " ".join(cmd).replace(str(self.tmp), "$TMP").replace(
            str(tport), "TPORT")
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=clean_env(), cwd=self.tmp)
        finally:
            target.stop()
        if r.returncode != 0:
            raise RuntimeError(f"spotlab agent exited {r.returncode}: {r.stderr[-1000:]}")
        reports = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
        full = [x for x in reports if not x.get("last") and x["counts"]["success"] > 0] or reports
        templates = []
        for x in full[:3]:
            c = x["counts"]
            completed = sum(c.get(k, 0) for k in ("success", "throttled", "client_error", "server_error",
                                                  "timeout", "connection_error"))
            templates.append({"counts": c, "completed": completed, "latency_scheduled": x["latency_scheduled"],
                              "latency_actual": x["latency_actual"]})
        example = dict(full[0])
        return {"templates": templates, "example": example, "reports_in_run": len(reports)}

    def send_reports(self, server: Server, batch: int, workers: int, secs: float, tag: str,
                     templates: list[dict]) -> dict:
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        procs = [ctx.Process(target=report_worker, args=(server.port, w, workers, batch, secs, tag, templates,
                                                        2_000, q), daemon=True) for w in range(workers)]
        busy0 = machine_cpu()[0]
        cpu0 = server.cpu()
        t0 = time.monotonic()
        for p in procs:
            p.start()
        results = [q.get(timeout=secs + 120) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        wall = time.monotonic() - t0
        server_cpu = server.cpu() - cpu0
        busy = (machine_cpu()[0] - busy0) / CLK_TCK
        client_cpu = sum(r["client_cpu_s"] for r in results)
        times = [t for r in results for t in r["times"]]
        posts = sum(len(r["times"]) for r in results)
        accepted = sum(r["accepted"] for r in results)
        status: dict[str, int] = {}
        problems: dict[str, int] = {}
        for r in results:
            for k, v in r["status"].items():
                status[k] = status.get(k, 0) + v
            for k, v in r["problems"].items():
                problems[k] = problems.get(k, 0) + v
        span = secs  # each worker sends for `secs`
        return {"batch": batch, "workers": workers, "seconds": secs, "wall_s": wall, "posts_ok": posts,
                "reports_sent": sum(r["reports"] for r in results), "accepted": accepted,
                "duplicates": sum(r["duplicates"] for r in results), "status": status,
                "problems": dict(list(problems.items())[:5]),
                "posts_per_s": posts / span, "reports_per_s": accepted / span,
                "datapoints_per_s": accepted * SERIES_PER_REPORT / span,
                "requests_represented_per_s": sum(r["sum_completed"] for r in results) / span,
                "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
                "server_cpu_s": server_cpu, "server_core": server_cpu / wall,
                "server_cpu_us_per_report": server_cpu * 1e6 / accepted if accepted else None,
                "server_cpu_us_per_post": server_cpu * 1e6 / posts if posts else None,
                "client_core": client_cpu / wall,
                "other_core": max(0.0, busy - server_cpu - client_cpu) / wall,
                "sum_success": sum(r["sum_success"] for r in results),
                "sum_completed": sum(r["sum_completed"] for r in results)}

    def section_reports(self, rnd: int, record: dict):
        if "report_templates" not in self.raw:
            self.raw["report_templates"] = self.real_report_templates()
        templates = self.raw["report_templates"]["templates"]
        server = self.start_spotlab(time_scale=1, label="reports")
        res: dict = {}
        record["reports"] = res
        try:
            since = time.time()
            for batch in (1, 100):
                for label, workers, secs in (("load", self.report_workers, self.replay_s), ("c1", 1, self.latency_s)):
                    idle = self.wait_idle()
                    r = self.send_reports(server, batch, workers, secs, f"r{rnd}-{batch}-{label}", templates)
                    r["idle"] = idle
                    res[f"batch{batch}-{label}"] = r
                    log(f"  spotlab reports, {batch} per POST, {workers} sender(s): {fmt(r['reports_per_s'])} reports/s "
                        f"({fmt(r['posts_per_s'])} POSTs/s), p50 {fmt(r['p50_ms'])} ms, p99 {fmt(r['p99_ms'])} ms, "
                        f"{fmt(r['server_cpu_us_per_report'])} µs CPU/report, control plane {r['server_core'] * 100:.0f}% "
                        f"of a core, senders {r['client_core'] * 100:.0f}%")
                    check(set(r["status"]) == {"200"} and not r["problems"],
                          f"spotlab refused reports: status {r['status']}, {r['problems']}")
                    check(r["accepted"] == r["reports_sent"] and r["duplicates"] == 0,
                          f"spotlab accepted {r['accepted']} of {r['reports_sent']} new reports "
                          f"({r['duplicates']} taken for duplicates)")
            # Exact totals: Sum(Success) and SampleCount over every report accepted.
            runs = [r for key, r in res.items() if key.startswith("batch")]
            want_success = sum(r["sum_success"] for r in runs)
            want_completed = sum(r["sum_completed"] for r in runs)
            c = cw_client(server.url)
            hour = {"minute": 0, "second": 0, "microsecond": 0}
            start = dt.datetime.fromtimestamp(since - 3600, dt.timezone.utc).replace(**hour)
            end = dt.datetime.fromtimestamp(time.time() + 3600, dt.timezone.utc).replace(**hour)
            got = c.get_metric_statistics(Namespace="spotlab", MetricName="Success", StartTime=start, EndTime=end,
                                          Period=3600, Statistics=["Sum", "SampleCount"])["Datapoints"]
            stored_success = sum(p["Sum"] for p in got)
            stored_samples = sum(p["SampleCount"] for p in got)
            exact = abs(stored_success - want_success) < 0.5 and abs(stored_samples - want_completed) < 0.5
            res["check"] = {"expected_success": want_success, "stored_success": stored_success,
                            "expected_completed": want_completed, "stored_samples": stored_samples, "exact": exact}
            log(f"  spotlab reports: Sum(Success) {fmt(stored_success)} for {want_success:,} reported, "
                f"SampleCount {fmt(stored_samples)} for {want_completed:,}: {'exact' if exact else 'DIFFERENT'}")
            check(exact, f"spotlab stored Sum(Success) {stored_success} and SampleCount {stored_samples} for "
                         f"reports carrying {want_success} successes of {want_completed} completed requests")
            res["rss_mib"] = rss_mib(server.proc.pid)
        finally:
            res["stopped"] = server.stop()

    # ------------------------------------------------------------------ evaluation
    def section_evaluation(self):
        res: dict = {"windows": [], "window_s": self.window_s, "alarms": self.eval_alarms,
                     "feed_interval_s": Feeder.INTERVAL_S, "time_scale": 60}
        self.raw["evaluation"] = res
        server = self.start_spotlab(time_scale=60, label="evaluation")
        feeder = None
        try:
            c = cw_client(server.url)
            _, feed = captured(c, Capture(c), "put_metric_data", feed_input())
            res["feed_body_bytes"] = len(feed["body"])
            res["feed_gzip"] = feed["headers"].get("Content-Encoding") == "gzip"
            feeder = Feeder(server.port, feed)
            time.sleep(3)
            res["windows"].append(self.evaluation_window(server, feeder, "no alarms (before)", 0))
            bodies, headers = self.alarm_bodies(server, self.eval_alarms)
            created = self.create_alarms(server, bodies, headers)
            res["create"] = created
            log(f"  evaluation: created {created['ok']:,} alarms in {created['total_s']:.1f} s "
                f"({fmt(created['calls_per_s'])} calls/s at time scale 60)")
            check(created["ok"] == created["n"] == self.eval_alarms,
                  f"spotlab created {created['ok']} of {self.eval_alarms} alarms: {created['problems']}")
            time.sleep(self.warm_minutes)  # at time scale 60: 20 virtual minutes, every range holds data
            res["states_before"] = self.count_alarms(server)
            log(f"  evaluation: states after {self.warm_minutes} virtual minutes: {res['states_before']}")
            check(res["states_before"].get("OK", 0) + res["states_before"].get("ALARM", 0) == self.eval_alarms,
                  f"after {self.warm_minutes} virtual minutes of data the alarms are {res['states_before']}, "
                  "not all OK or ALARM")
            for i in range(self.eval_windows):
                res["windows"].append(self.evaluation_window(server, feeder, f"10,000 alarms ({i + 1})",
                                                             self.eval_alarms))
            res["states_after"] = self.count_alarms(server)
            res["history_after"] = self.history_summary(server)
            names = [alarm_input(i)["AlarmName"] for i in range(self.eval_alarms)]
            for i in range(0, len(names), 100):
                c.delete_alarms(AlarmNames=names[i:i + 100])
            check(not self.count_alarms(server), "alarms are left after DeleteAlarms")
            time.sleep(2)
            res["windows"].append(self.evaluation_window(server, feeder, "no alarms (after)", 0))
        finally:
            if feeder:
                res["feed"] = feeder.stop()
            res["stopped"] = server.stop()
        check(res["feed"]["non200"] == 0 and not res["feed"]["errors"],
              f"spotlab refused {res['feed']['non200']} feed calls ({res['feed']['errors']})")
        analyse_evaluation(res)

    def evaluation_window(self, server: Server, feeder: Feeder, label: str, alarms: int) -> dict:
        """The control plane's CPU over `window_s` seconds with `alarms` defined."""
        idle = self.wait_idle()
        v0 = virtual_ms(server.port)
        b0 = machine_cpu()[0]
        cpu0 = server.cpu()
        me0 = time.process_time()
        calls0 = feeder.calls
        t0 = time.monotonic()
        time.sleep(self.window_s)
        wall = time.monotonic() - t0
        cpu = server.cpu() - cpu0
        mine = time.process_time() - me0
        busy = (machine_cpu()[0] - b0) / CLK_TCK
        v1 = virtual_ms(server.port)
        minutes = v1 // 60_000 - v0 // 60_000
        w = {"label": label, "alarms": alarms, "wall_s": wall, "cpu_s": cpu, "core": cpu / wall,
             "t_mid": t0 + wall / 2 - self.t_start,
             "virtual_minutes": minutes, "virtual_s": (v1 - v0) / 1000.0,
             "feed_calls": feeder.calls - calls0,
             "other_core": max(0.0, busy - cpu - mine) / wall, "idle_before": idle,
             "rss_mib": rss_mib(server.proc.pid)}
        log(f"  evaluation window {label}: {alarms:,} alarms, control plane {w['core'] * 100:.1f}% of a core "
            f"over {wall:.1f} s ({minutes} virtual minutes, {w['feed_calls']} feed calls), "
            f"others {w['other_core']:.2f} cores")
        return w

    def history_summary(self, server: Server) -> dict:
        """State changes in the history of a sample of alarms (one of each kind)."""
        c = cw_client(server.url)
        out = {}
        for kind in range(ALARM_KINDS):
            name = alarm_input(kind * METRICS)["AlarmName"]
            items = c.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate",
                                             MaxRecords=100)["AlarmHistoryItems"]
            out[name] = len(items)
        return out

    # ------------------------------------------------------------------ criterion
    def section_criterion(self):
        """Runs bench/benches/monitoring.rs and reads this run's estimates from criterion's
        directory. Its own checks (every alarm evaluated with data, no state change while
        timed) panic on failure, which stops this run too."""
        res: dict = {"benchmarks": {}}
        self.raw["criterion"] = res
        cmd = ["cargo", "bench", "-p", "spotlab-bench", "--bench", "monitoring"]
        if self.quick:
            cmd += ["--", "--warm-up-time", "0.5", "--measurement-time", "1"]
        self.commands["criterion"] = " ".join(cmd)
        self.wait_idle()
        log(f"criterion: {' '.join(cmd)}")
        started = time.time()
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "CARGO_TARGET_DIR": self.args.target_dir})
        res["wall_s"] = time.time() - started
        res["checks"] = [line for line in r.stderr.splitlines() if line.startswith("evaluate:")]
        check(r.returncode == 0, f"cargo bench failed ({r.returncode}): {(r.stderr + r.stdout)[-2000:]}")
        for bench_json in (Path(self.args.target_dir) / "criterion").glob("**/new/benchmark.json"):
            if bench_json.stat().st_mtime < started:
                continue  # an earlier run's
            meta = json.loads(bench_json.read_text())
            est = json.loads((bench_json.parent / "estimates.json").read_text())
            if meta.get("full_id", "").startswith("monitoring/"):
                res["benchmarks"][meta["full_id"]] = {
                    "mean_ns": est["mean"]["point_estimate"], "median_ns": est["median"]["point_estimate"],
                    "mean_ci_ns": [est["mean"]["confidence_interval"]["lower_bound"],
                                   est["mean"]["confidence_interval"]["upper_bound"]]}
        for k, v in sorted(res["benchmarks"].items()):
            log(f"  {k}: mean {v['mean_ns'] / 1000:,.1f} µs")

    # ------------------------------------------------------------------ profile
    def perf_record(self, pid: int | None, out: Path, secs: float, cmd: list[str] | None = None):
        base = ["perf", "record", "-F", "199", "--call-graph", "dwarf,16384", "-o", str(out)]
        if pid is not None:
            base += ["-p", str(pid), "--", "sleep", str(secs)]
        else:
            base += ["--"] + cmd
        return subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.tmp)

    @staticmethod
    def perf_frames(data: Path) -> dict:
        """Inclusive share of every frame of interest, and the top frames by self time."""
        try:
            r = subprocess.run(["perf", "report", "-i", str(data), "--no-inline", "--children", "--sort", "symbol",
                                "--stdio", "-g", "none"], capture_output=True, text=True, timeout=900,
                               env={**os.environ, "DEBUGINFOD_URLS": ""})
        except subprocess.TimeoutExpired:
            return {"frames": {}, "top_self": [], "error": "perf report took over 15 min"}
        line_re = re.compile(r"^\s+([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*$")
        rows = []
        for line in r.stdout.splitlines():
            m = line_re.match(line)
            if m:
                rows.append((float(m.group(1)), float(m.group(2)), m.group(3)))
        frames = {}
        for pattern, *_ in PROFILE_FRAMES:
            shares = [c for c, _, sym in rows if pattern in sym and "{closure" not in sym.split(pattern)[0]]
            if shares:
                frames[pattern] = max(shares)
        top_self = sorted(rows, key=lambda x: -x[1])[:12]
        return {"frames": frames, "top_self": [(round(sf, 2), sym[:160]) for _, sf, sym in top_self],
                "samples_rows": len(rows)}

    def section_profile(self):
        res: dict = {}
        self.raw["profile"] = res
        if not shutil.which("perf") or subprocess.run(["perf", "record", "-o", str(self.tmp / "probe.data"), "--",
                                                       "true"], capture_output=True).returncode != 0:
            res["skipped"] = "perf is not available (or not allowed: kernel.perf_event_paranoid)"
            log(f"profile: {res['skipped']}")
            return
        templates = (self.raw.get("report_templates") or self.real_report_templates())["templates"]
        loads = (("native reports, 1 per POST (2 senders)", "reports"),
                 ("PutMetricData-20 (oha, 4 connections)", "pmd20"))
        for label, kind in loads:
            server = self.start_spotlab(time_scale=1, label=f"profile-{kind}")
            try:
                data = self.tmp / f"perf-{kind}.data"
                perf = self.perf_record(server.proc.pid, data, 6)
                time.sleep(0.5)
                if kind == "reports":
                    load = self.send_reports(server, 1, 2, 6, f"prof-{kind}", templates)
                    summary = f"{fmt(load['reports_per_s'])} reports/s"
                else:
                    c = cw_client(server.url)
                    _, fx = captured(c, Capture(c), "put_metric_data", walkthrough_put_input())
                    load = self.oha_run(server, "profile-PutMetricData-20", fx, 4, 6)
                    summary = f"{fmt(load.get('ok_rps'))} req/s"
                perf.wait(timeout=60)
            finally:
                server.stop()
            log(f"profile: {label}: {summary} under perf; reading the profile")
            res[label] = {"load": summary, **self.perf_frames(data)}
        # Evaluation: the criterion binary's evaluate benchmark for a few seconds.
        r = subprocess.run(["cargo", "bench", "-p", "spotlab-bench", "--bench", "monitoring", "--no-run",
                            "--message-format=json"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "CARGO_TARGET_DIR": self.args.target_dir})
        exe = None
        for line in r.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("executable") and msg.get("target", {}).get("name") == "monitoring":
                exe = msg["executable"]
        if exe:
            data = self.tmp / "perf-evaluate.data"
            perf = self.perf_record(None, data, 0, [exe, "--bench", "--profile-time", "5", "evaluate"])
            perf.wait(timeout=300)
            label = "evaluation of 10,000 alarms (criterion's evaluate, in-process)"
            log(f"profile: {label}: reading the profile")
            res[label] = {"load": "criterion --profile-time 5 (includes its untimed setup and data puts)",
                          **self.perf_frames(data)}
        self.commands["perf"] = ("perf record -F 199 --call-graph dwarf,16384 -p PID -- sleep 6; "
                                 "perf report --no-inline --children --sort symbol --stdio -g none")

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        self.preflight()
        only = set(self.args.only or [s for s in SECTIONS if not (self.quick and s == "profile")])
        self.raw.update({"facts": self.facts(), "command": self.args.command_line, "sections": sorted(only),
                         "settings": {"quick": self.quick, "rounds": self.rounds, "replay_s": self.replay_s,
                                      "latency_s": self.latency_s, "connections": self.connections,
                                      "report_workers": self.report_workers, "alarms_api": self.alarms_n,
                                      "eval_alarms": self.eval_alarms, "window_s": self.window_s,
                                      "eval_windows": self.eval_windows, "sdk_n": self.sdk_n,
                                      "tmpfs_variant": bool(self.tmpfs)}})
        if not self.tmpfs:
            self.notes.append(f"No writable tmpfs at {TMPFS_ROOT}: the tmpfs variant of spotlab was not run.")
        t0 = self.t_start = time.monotonic()
        log(f"machine: {self.raw['facts']['nproc']} cores, load {self.raw['facts']['loadavg_at_start']}; "
            f"{self.raw['facts']['versions']}")
        for rnd in range(self.rounds):
            record: dict = {"round": rnd + 1, "calls": {}}
            self.raw["rounds"].append(record)
            if "ingest" in only:
                log(f"ingest round {rnd + 1}/{self.rounds}")
                self.section_ingest(rnd, record)
            if "alarms" in only:
                log(f"alarms API round {rnd + 1}/{self.rounds}")
                self.section_alarms(rnd, record)
            if "reports" in only:
                log(f"native reports round {rnd + 1}/{self.rounds}")
                self.section_reports(rnd, record)
        if "evaluation" in only:
            log("evaluation of 10,000 alarms")
            self.section_evaluation()
        if "criterion" in only:
            self.section_criterion()
        if "profile" in only:
            log("profile (perf)")
            self.section_profile()
        self.raw["took_s"] = time.monotonic() - t0
        self.raw["commands"] = self.commands
        self.raw["loadavg_at_end"] = loadavg()
        self.raw["others_seen"] = dict(sorted(self.others.items(), key=lambda kv: -kv[1])[:8])
        self.raw["notes"] = self.notes
        return self.raw


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs, one round, 1,000 alarms for the API comparison")
    ap.add_argument("--rounds", type=int, help="rounds of ingest, alarms and reports (default 2, quick 1)")
    ap.add_argument("--replay-duration", type=int,
                    help="seconds per c8 oha run and per report load (default 6, quick 3)")
    ap.add_argument("--latency-duration", type=int,
                    help="seconds per c1 oha run and per single-sender report run (default 4, quick 2)")
    ap.add_argument("--connections", type=int, default=8, help="oha connections for throughput (8)")
    ap.add_argument("--report-workers", type=int, default=4, help="processes sending native reports (4)")
    ap.add_argument("--alarms", type=int, help="alarms for the API comparison (default 10,000, quick 1,000)")
    ap.add_argument("--window", type=int, help="seconds per evaluation window (default 15, quick 6)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    ap.add_argument("--spotlab", default=str(ROOT / "target" / "release" / "spotlab"), help="the spotlab binary")
    ap.add_argument("--target-dir", default=str(ROOT / "target"), help="cargo's target directory (criterion's results)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "MONITORING.md")
    ap.add_argument("--raw", type=Path, default=ROOT / "bench" / "monitoring-raw.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, bodies)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the Markdown from an existing --raw file")
    args = ap.parse_args()
    args.command_line = os.environ.get("SPOTLAB_BENCH_COMMAND") or \
        "bench/monitoring/run.sh " + " ".join(shlex.quote(a) for a in sys.argv[1:])

    if args.report_only:
        write_report(json.loads(args.raw.read_text()), args.out)
        log(f"wrote {args.out}")
        return

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    bench = Bench(args)
    keep = args.keep
    try:
        try:
            raw = bench.run()
        except KeyboardInterrupt as e:
            log(f"interrupted ({e}): stopping every process this run started; no report written")
            sys.exit(130)
        except CheckFailed as e:
            keep = True
            (bench.tmp / "monitoring-raw.json").write_text(json.dumps(bench.raw, indent=1, default=str) + "\n")
            log(f"CHECK FAILED: {e}")
            log(f"no report written; what was measured and the servers' logs are in {bench.tmp}")
            sys.exit(1)
        args.raw.write_text(json.dumps(raw, indent=1, default=str) + "\n")
        write_report(raw, args.out)
        log(f"wrote {args.out} and {args.raw}" + (f" (logs kept in {bench.tmp})" if keep else ""))
    finally:
        PROCS.stop_all()
        if not keep:
            shutil.rmtree(bench.tmp, ignore_errors=True)
        if bench.tmpfs:
            shutil.rmtree(bench.tmpfs, ignore_errors=True)


if __name__ == "__main__":
    main()
