#!/usr/bin/env python3
"""spotlab data-plane benchmark: driver and analysis (Python 3.11, stdlib only).

Measures `spotlab agent` and `spotlab target` side by side with the peers wrk, oha and
nginx, in one run on 127.0.0.1, alternating A/B within each round, and writes
bench/DATAPLANE.md (ratios first) and bench/dataplane-raw.json (every run's numbers).
The method follows the research note shared/reference/loadgen-anchors.md (sections 3 to 5
and Appendices A and B). Run it through bench/dataplane/run.sh, which installs the peers,
builds spotlab and raises the file-descriptor limit first.

Sections (all by default; --only picks some):
  agent    A1 schedule fidelity, A3 cost vs oha -q, A6 exact counting (nginx hello and
           nginx limit_req), and the sleep-after-call baseline (wrk + delay1000.lua)
  limit    T1 exact limiting: spotlab target --burst 1 and --burst 5 vs nginx limit_req
  speed    T2 overload throughput, T3 server CPU per request, T5 c1000 vs c16
  latency  T4 p99 latency at half of nginx's maximum rate (oha -q, --latency-correction)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
SECTIONS = ("agent", "limit", "speed", "latency")


# ----------------------------------------------------------------------------- helpers

def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values, p: float):
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence; None if empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=2, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    if abs(v) >= 1000:
        return f"{v:,.0f}{unit}"
    return f"{v:.{digits}f}{unit}"


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port(port: int, proc: subprocess.Popen, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited ({proc.returncode}) before port {port} opened")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {timeout} s")


def proc_cpu(pid: int) -> float:
    """utime+stime of a process (all its threads), seconds, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def mem_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1048576:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "n/a"


def clean_env() -> dict:
    """The environment for children: no SPOTLAB_* settings leak in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTLAB_")}
    return env


# -------------------------------------------------------------------------- processes

class Procs:
    """Every long-lived process this run started, stopped by pid (process group) at exit."""

    def __init__(self):
        self.live: list[subprocess.Popen] = []

    def add(self, p):
        self.live.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=15.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        else:
            # The leader is gone; make sure nothing of its group survives (nginx workers).
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in list(reversed(self.live)):
            self.stop(p, timeout=5.0)


PROCS = Procs()


def run_client(cmd, out_path: Path, err_path: Path, timeout: float) -> dict:
    """Runs a client to completion; returns exit code, wall time and rusage (os.wait4)."""
    log("  $ " + " ".join(shlex.quote(str(c)) for c in cmd))
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err,
                             start_new_session=True, env=clean_env(), cwd=ROOT)
        PROCS.add(p)
        deadline = t0 + timeout
        status = None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                log(f"  ! {cmd[0]} overran {timeout:.0f} s: killing it")
                os.killpg(p.pid, signal.SIGTERM)
                time.sleep(3)
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.1)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        PROCS.live.remove(p)
    return {
        "cmd": " ".join(shlex.quote(str(c)) for c in cmd),
        "rc": p.returncode,
        "wall_s": wall,
        "cpu_user_s": ru.ru_utime,
        "cpu_sys_s": ru.ru_stime,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "maxrss_mib": ru.ru_maxrss / 1024.0,
        "stdout": out_path.read_text(errors="replace"),
        "stderr_tail": err_path.read_text(errors="replace")[-2000:],
    }


class Nginx:
    def __init__(self, bench: "Bench", template: str, **subs):
        self.bench = bench
        self.name = template.removesuffix(".conf")
        prefix = bench.tmp / "nginx"
        for d in ("conf", "logs", "www"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
            os.chmod(prefix / d, 0o755)
        (prefix / "www" / "hello.txt").write_text("Hello World!")
        os.chmod(prefix / "www" / "hello.txt", 0o644)
        text = (HERE / "nginx" / template).read_text()
        for k, v in subs.items():
            text = text.replace(f"@{k}@", str(v))
        left = re.findall(r"@[A-Z_]+@", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
        if left:
            raise RuntimeError(f"{template}: unreplaced placeholders {left}")
        (prefix / "conf" / template).write_text(text)
        self.prefix = prefix
        self.logs = prefix / "logs"
        cmd = [bench.nginx, "-p", str(prefix), "-c", f"conf/{template}",
               "-e", str(self.logs / f"{self.name}_startup.log")]
        log(f"start nginx {template}: {' '.join(cmd)}")
        self.proc = PROCS.add(subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                               stderr=open(self.logs / f"{self.name}.stderr", "wb"),
                                               start_new_session=True, cwd=prefix))
        self.ports = [v for k, v in subs.items() if k.startswith("PORT_")]
        try:
            for port in self.ports:
                wait_port(port, self.proc)
        except RuntimeError:
            errs = ""
            for f in self.logs.glob(f"*{self.name.split('-')[0]}*"):
                errs += f.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"nginx {template} did not start:\n{errs}")

    def pids(self) -> list[int]:
        return [self.proc.pid] + children(self.proc.pid)

    def cpu(self) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                total += proc_cpu(pid)
            except OSError:
                pass
        return total

    def stop(self):
        # SIGQUIT: graceful shutdown, buffered access logs are flushed.
        PROCS.stop(self.proc, sig=signal.SIGQUIT)


class SpotlabTarget:
    def __init__(self, bench: "Bench", port: int, burst: int, threads: int, access_log: Path | None = None):
        self.bench = bench
        cmd = [bench.spotlab, "target", "--listen", f"127.0.0.1:{port}", "--rate", "5",
               "--burst", str(burst), "--threads", str(threads), "--latency", "0",
               "--time-scale", "1"]
        if access_log is not None:
            cmd += ["--access-log", str(access_log)]
        self.cmd = " ".join(cmd)
        self.stderr_path = bench.tmp / f"target-{port}-{burst}-{time.monotonic_ns()}.stderr"
        log(f"start {self.cmd}")
        self.proc = PROCS.add(subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                               stderr=open(self.stderr_path, "wb"),
                                               start_new_session=True, env=clean_env()))
        ready, _, _ = select.select([self.proc.stdout], [], [], 15.0)
        line = self.proc.stdout.readline().decode(errors="replace") if ready else ""
        if "listening on" not in line:
            PROCS.stop(self.proc)
            raise RuntimeError(f"spotlab target did not announce itself: {line!r}\n"
                               + self.stderr_path.read_text(errors="replace")[-2000:])
        self.port = port

    def pids(self):
        return [self.proc.pid]

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def stop(self) -> str:
        PROCS.stop(self.proc, sig=signal.SIGTERM)
        return self.stderr_path.read_text(errors="replace")


# ------------------------------------------------------------------------ log analysis

def read_ts_log(path: Path, offset: int) -> list[tuple[int, int, int]]:
    """(ms, remote port, status) rows of a `$msec $remote_port $status` log from offset."""
    rows = []
    if not path.exists():
        return rows
    with open(path, "rb") as f:
        f.seek(offset)
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            sec, _, frac = parts[0].partition(b".")
            ms = int(sec) * 1000 + int((frac + b"000")[:3])
            rows.append((ms, int(parts[1]), int(parts[2])))
    rows.sort()
    return rows


def wait_log_quiet(path: Path, settle=0.6, limit=6.0) -> None:
    """Waits for nginx's buffered log (flush=1s) to reach the file: size stable."""
    time.sleep(1.2)
    deadline = time.monotonic() + limit
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else 0
        if size == last:
            return
        last = size
        time.sleep(settle)


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def status_counts(rows) -> dict:
    out: dict[str, int] = {}
    for _, _, st in rows:
        out[str(st)] = out.get(str(st), 0) + 1
    return out


def analyze_schedule(rows, period_ms: float | None, skip_s: int, rate: float | None) -> dict:
    """Appendix B: per-second totals, per-connection interval error and drift, grid error.

    Drops the first `skip_s` seconds (whole seconds from the first request's second) and
    the last (partial) second.
    """
    if not rows:
        return {"requests": 0}
    first_bin = rows[0][0] // 1000
    last_bin = rows[-1][0] // 1000
    lo, hi = (first_bin + skip_s) * 1000, last_bin * 1000
    win = [r for r in rows if lo <= r[0] < hi]
    per_sec: dict[int, int] = {}
    for ms, _, _ in win:
        per_sec[ms // 1000] = per_sec.get(ms // 1000, 0) + 1
    counts = [per_sec.get(b, 0) for b in range(lo // 1000, hi // 1000)]
    res = {
        "requests": len(rows),
        "window_s": (hi - lo) / 1000,
        "window_requests": len(win),
        "per_second_min": min(counts) if counts else None,
        "per_second_max": max(counts) if counts else None,
        "per_second": counts,
    }
    if period_ms:
        by_port: dict[int, list[int]] = {}
        for ms, port, _ in win:
            by_port.setdefault(port, []).append(ms)
        errs, drifts, per_interval = [], [], []
        for times in by_port.values():
            if len(times) < 2:
                continue
            times.sort()
            errs.extend(abs((b - a) - period_ms) for a, b in zip(times, times[1:]))
            k = len(times) - 1
            drifts.append(times[-1] - times[0] - k * period_ms)
            per_interval.append(drifts[-1] / k)
        res.update({
            "connections": len(by_port),
            "interval_err_ms_p50": pct(errs, 50), "interval_err_ms_p90": pct(errs, 90),
            "interval_err_ms_p99": pct(errs, 99), "interval_err_ms_max": max(errs) if errs else None,
            "drift_ms_p99_abs": pct([abs(d) for d in drifts], 99),
            "drift_ms_max_abs": max((abs(d) for d in drifts), default=None),
            "drift_ms_mean": statistics.fmean(drifts) if drifts else None,
            "drift_ms_per_interval_mean": statistics.fmean(per_interval) if per_interval else None,
        })
    if rate:
        step = 1000.0 / rate
        d = [ms - i * step for i, (ms, _, _) in enumerate(win)]
        if d:
            m = statistics.median(d)
            e = [abs(x - m) for x in d]
            res.update({"grid_err_ms_p50": pct(e, 50), "grid_err_ms_p99": pct(e, 99), "grid_err_ms_max": max(e)})
            if len(win) > 1:
                span = (win[-1][0] - win[0][0]) / 1000
                res["grid_rate_achieved"] = (len(win) - 1) / span if span > 0 else None
    return res


def analyze_allowed(rows, burst_eq: int) -> dict:
    """allowed.py: 200s per 1 s window from the first request, gaps, steady rate."""
    ok = [ms for ms, _, st in rows if 200 <= st < 300]
    res = {"log_total": len(rows), "log_allowed": len(ok), "log_status": status_counts(rows)}
    if not rows or not ok:
        return res
    t0 = rows[0][0]
    windows: dict[int, int] = {}
    for ms in ok:
        windows[(ms - t0) // 1000] = windows.get((ms - t0) // 1000, 0) + 1
    gaps = [b - a for a, b in zip(ok, ok[1:])]
    res["per_window"] = [windows.get(i, 0) for i in range(max(windows) + 1)]
    res["first_gaps_ms"] = gaps[:8]
    steady = gaps[burst_eq - 1:] if len(gaps) >= burst_eq else []
    res["steady_gap_ms_min"] = min(steady) if steady else None
    res["steady_gap_ms_max"] = max(steady) if steady else None
    if len(ok) > burst_eq:
        span = (ok[-1] - ok[burst_eq - 1]) / 1000
        res["steady_rate"] = (len(ok) - burst_eq) / span if span > 0 else None
    res["span_first_to_last_request_s"] = (rows[-1][0] - t0) / 1000
    return res


# ---------------------------------------------------------------------- tool parsers

def parse_wrk(text: str) -> dict:
    out = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
    if m:
        out["requests"] = int(m.group(1))
        secs = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
        out["duration_s"] = secs
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    out["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    if "requests" in out:
        out["allowed"] = out["requests"] - out["non2xx"]
    return out


def parse_oha_json(text: str) -> dict:
    try:
        start = text.index("{")
        data = json.loads(text[start:])
    except (ValueError, json.JSONDecodeError):
        return {"parse_error": text[-500:]}
    summary = data.get("summary", {})
    lat = data.get("latencyPercentiles", {})
    out = {
        "rps": summary.get("requestsPerSec"),
        "success_rate": summary.get("successRate"),
        "status": data.get("statusCodeDistribution", {}),
        "errors": data.get("errorDistribution", {}),
    }
    for k in ("p50", "p90", "p99", "p99.9"):
        if lat.get(k) is not None:
            out[f"{k}_ms"] = lat[k] * 1000.0
    return out


def read_agent_reports(path: Path) -> dict:
    keys = ("sent", "success", "throttled", "client_error", "server_error", "timeout",
            "connection_error", "late", "skipped")
    totals = {k: 0 for k in keys}
    intervals = []
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line:
                continue
            rep = json.loads(line)
            c = rep.get("counts", {})
            for k in keys:
                totals[k] += int(c.get(k, 0))
            intervals.append({"seq": rep.get("seq"), "start": rep.get("start"), "end": rep.get("end"),
                              "last": rep.get("last"), **{k: int(c.get(k, 0)) for k in keys}})
    completed = sum(totals[k] for k in ("success", "throttled", "client_error", "server_error",
                                         "timeout", "connection_error"))
    return {"totals": totals, "completed": completed, "intervals": intervals}


def iso_ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def compare_counts(agent: dict, rows) -> dict:
    """A6: agent totals vs access-log totals, and per-second buckets."""
    st = status_counts(rows)
    log_2xx = sum(v for k, v in st.items() if k.startswith("2"))
    log_429 = st.get("429", 0)
    t = agent["totals"]
    res = {
        "agent_sent": t["sent"], "agent_success": t["success"], "agent_throttled": t["throttled"],
        "agent_errors": t["client_error"] + t["server_error"] + t["timeout"] + t["connection_error"],
        "agent_completed": agent["completed"], "agent_late": t["late"], "agent_skipped": t["skipped"],
        "log_total": len(rows), "log_2xx": log_2xx, "log_429": log_429, "log_status": st,
    }
    res["sent_equal"] = t["sent"] == len(rows)
    res["success_equal"] = t["success"] == log_2xx
    res["throttled_equal"] = t["throttled"] == log_429
    res["exact"] = res["sent_equal"] and res["success_equal"] and res["throttled_equal"] \
        and agent["completed"] == t["sent"]
    # Per-second buckets: agent intervals by their start second vs log rows by second.
    log_ok: dict[int, int] = {}
    log_thr: dict[int, int] = {}
    for ms, _, s in rows:
        b = ms // 1000
        if 200 <= s < 300:
            log_ok[b] = log_ok.get(b, 0) + 1
        elif s == 429:
            log_thr[b] = log_thr.get(b, 0) + 1
    a_ok: dict[int, int] = {}
    a_thr: dict[int, int] = {}
    for iv in agent["intervals"]:
        try:
            b = iso_ms(iv["start"]) // 1000
        except (TypeError, ValueError):
            continue
        a_ok[b] = a_ok.get(b, 0) + iv["success"]
        a_thr[b] = a_thr.get(b, 0) + iv["throttled"]
    keys = set(log_ok) | set(a_ok) | set(log_thr) | set(a_thr)
    res["per_second_max_abs_diff_success"] = max((abs(a_ok.get(b, 0) - log_ok.get(b, 0)) for b in keys), default=0)
    res["per_second_max_abs_diff_throttled"] = max((abs(a_thr.get(b, 0) - log_thr.get(b, 0)) for b in keys), default=0)
    res["per_second_buckets"] = len(keys)
    return res


# ----------------------------------------------------------------------------- bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.rounds = args.rounds or (1 if self.quick else 3)
        self.agent_s = args.agent_duration or (8 if self.quick else 60)
        self.wrk_s = args.wrk_duration or (5 if self.quick else 10)
        self.delay_s = args.delay_duration or (8 if self.quick else 30)
        self.callers = args.callers or ([1000] if self.quick else [1000, 10000])
        self.count_callers = args.count_callers
        self.skip_s = 2
        self.threads = args.server_threads
        self.spotlab = str(ROOT / "target" / "release" / "spotlab")
        self.nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        cache = Path(os.environ.get("SPOTLAB_BENCH_CACHE", Path.home() / ".cache" / "spotlab-bench"))
        self.oha = shutil.which("oha", path=str(cache / "bin")) or shutil.which("oha")
        self.wrk = shutil.which("wrk")
        self.tmp = Path(tempfile.mkdtemp(prefix="spotlab-dataplane-"))
        os.chmod(self.tmp, 0o755)
        base = args.base_port
        self.port = {
            "hello": base, "hello_ts": base + 1, "limit_strict_log": base + 2,
            "limit_burst_log": base + 3, "limit_strict": base + 4, "hello2": base + 5,
            "target": base + 6,
        }
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.raw: dict = {"runs": {}, "skipped": []}
        self.notes: list[str] = []
        self.seq = 0

    # ------------------------------------------------------------------ preflight
    def preflight(self):
        tools = [("spotlab", self.spotlab), ("nginx", self.nginx), ("wrk", self.wrk)]
        if {"agent", "latency"} & set(self.sections):
            tools.append(("oha", self.oha))
        missing = [n for n, p in tools if not p or not Path(p).exists()]
        if missing:
            sys.exit(f"missing tools: {', '.join(missing)} (run bench/dataplane/setup.sh)")
        busy = [p for p in self.port.values() if not port_free(p)]
        if busy:
            sys.exit(f"ports in use on 127.0.0.1: {busy}; pick another --base-port")
        need = max(self.callers) + 1000
        if self.nofile < need:
            try:
                hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 200000), hard))
                self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            except (ValueError, OSError):
                pass
        if self.nofile < need:
            sys.exit(f"open-file limit {self.nofile} is below {need} (callers + margin); raise ulimit -n")
        helptext = subprocess.run([self.spotlab, "target", "--help"], capture_output=True, text=True).stdout
        self.target_has_access_log = "--access-log" in helptext
        if not self.target_has_access_log:
            self.notes.append("`spotlab target --access-log` is not available in this build: the target's "
                              "T1 gap and steady-rate checks were skipped (allowed counts come from wrk).")

    def facts(self) -> dict:
        def first(cmd):
            if not cmd[0]:
                return "not installed"
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
                return (r.stdout + r.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "n/a"
        model = "n/a"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        def sysctl(name):
            try:
                return Path("/proc/sys/" + name.replace(".", "/")).read_text().strip().replace("\t", " ")
            except OSError:
                return "n/a"
        git = first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True,
                               text=True).stdout.strip()
        return {
            "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "nproc": os.cpu_count(),
            "cpu_model": model,
            "kernel": os.uname().release,
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
            "mem_total": mem_gib(),
            "nofile": self.nofile,
            "ip_local_port_range": sysctl("net.ipv4.ip_local_port_range"),
            "tcp_tw_reuse": sysctl("net.ipv4.tcp_tw_reuse"),
            "git": git + (" (work tree has uncommitted changes)" if dirty else ""),
            "versions": {
                "spotlab": first([self.spotlab, "--version"]),
                "nginx": first([self.nginx, "-v"]).removeprefix("nginx version: "),
                "wrk": first([self.wrk, "-v"]).split(" Copyright")[0],
                "oha": first([self.oha, "--version"]),
                "python": sys.version.split()[0],
            },
        }

    def path(self, stem: str) -> Path:
        self.seq += 1
        return self.tmp / f"{self.seq:03d}-{stem}"

    def check_foreign(self, what: str, client_count: int, log_count: int) -> None:
        """The server's log must not hold more requests than the client made: if it does,
        something else on this machine sent traffic to the benchmark's port."""
        extra = log_count - client_count
        if extra > max(50, client_count * 0.002):
            self.notes.append(f"{what}: the server logged {log_count:,} requests but the client counted "
                              f"{client_count:,}: {extra:,} came from elsewhere (another process using port "
                              f"{self.args.base_port}+?). This run's numbers are suspect; rerun with another "
                              "--base-port on an idle machine.")

    # ------------------------------------------------------------------ clients
    def wrk_run(self, url, conns, secs, script=None) -> dict:
        cmd = [self.wrk, "-t1", f"-c{conns}", f"-d{secs}s"]
        if script:
            cmd += ["-s", str(script)]
        cmd.append(url)
        p = self.path(f"wrk-c{conns}")
        r = run_client(cmd, p.with_suffix(".out"), p.with_suffix(".err"), secs + 60)
        r.update(parse_wrk(r["stdout"]))
        return r

    def agent_run(self, url, callers, secs) -> dict:
        p = self.path(f"agent-n{callers}")
        report = p.with_suffix(".jsonl")
        ckpt = p.with_suffix(".ckpt")
        ckpt.mkdir()
        cmd = [self.spotlab, "agent", "--url", url, "--callers", str(callers), "--rate", "1",
               "--duration", f"{secs}s", "--imds", "off", "--report", str(report),
               "--checkpoint", f"file://{ckpt}/", "--threads", "1", "--time-scale", "1"]
        r = run_client(cmd, p.with_suffix(".out"), p.with_suffix(".err"), secs + 60)
        r["reports"] = read_agent_reports(report)
        m = re.search(r"latency from schedule\s+p50 ([\d.]+) ms, p90 ([\d.]+) ms, p99 ([\d.]+) ms", r["stdout"])
        if m:
            r["p50_ms"], r["p90_ms"], r["p99_ms"] = (float(x) for x in m.groups())
        errs = [l for l in Path(p.with_suffix(".err")).read_text(errors="replace").splitlines()
                if "WARN" in l or "ERROR" in l]
        r["stderr_warnings"] = errs[:20]
        r["stderr_warning_count"] = len(errs)
        return r

    def oha_rate_run(self, url, qps, conns, secs) -> dict:
        p = self.path(f"oha-q{qps}")
        cmd = [self.oha, "--no-tui", "--worker-threads", "1", "-q", str(qps), "-c", str(conns),
               "-z", f"{secs}s", "--latency-correction", "--output-format", "json", url]
        r = run_client(cmd, p.with_suffix(".out"), p.with_suffix(".err"), secs + 60)
        r.update(parse_oha_json(r["stdout"]))
        r["stdout"] = r["stdout"][:200]
        return r

    # ------------------------------------------------------------------ sections
    def section_agent(self):
        a = self.raw["runs"].setdefault("agent", {})
        wc = min(self.nofile - 100, max(self.callers) + 2048)
        hello = Nginx(self, "hello.conf", PORT_PLAIN=self.port["hello"], PORT_TS=self.port["hello_ts"],
                      NOFILE=self.nofile, WORKER_CONNECTIONS=wc)
        ts_log = hello.logs / "hello_ts.log"
        url = f"http://127.0.0.1:{self.port['hello_ts']}/"
        try:
            for n in self.callers:
                runs = a.setdefault(f"n{n}", [])
                for rnd in range(self.rounds):
                    order = ["agent", "oha"] if rnd % 2 == 0 else ["oha", "agent"]
                    entry = {"round": rnd + 1, "order": order}
                    for tool in order:
                        log(f"A1/A3 N={n} round {rnd + 1}: {tool}")
                        time.sleep(1.0)
                        off = log_size(ts_log)
                        if tool == "agent":
                            r = self.agent_run(url, n, self.agent_s)
                        else:
                            r = self.oha_rate_run(url, n, 16, self.agent_s)
                        wait_log_quiet(ts_log)
                        rows = read_ts_log(ts_log, off)
                        r["log"] = analyze_schedule(rows, 1000.0 if tool == "agent" else None, self.skip_s, n)
                        if tool == "oha":
                            self.check_foreign(f"oha -q {n} (round {rnd + 1})", sum((r.get("status") or {}).values()),
                                               len(rows))
                        r["scheduled_requests"] = n * self.agent_s
                        r["cpu_us_per_scheduled"] = r["cpu_s"] / r["scheduled_requests"] * 1e6
                        r["cores"] = r["cpu_s"] / r["wall_s"]
                        r["cores_over_duration"] = r["cpu_s"] / self.agent_s
                        if tool == "agent":
                            r["counting"] = compare_counts(r["reports"], rows)
                            r["reports"] = {"totals": r["reports"]["totals"], "completed": r["reports"]["completed"],
                                            "intervals": len(r["reports"]["intervals"])}
                        entry[tool] = r
                    entry["cpu_ratio"] = (entry["agent"]["cpu_s"] / entry["oha"]["cpu_s"]
                                          if entry["oha"]["cpu_s"] > 0 else None)
                    runs.append(entry)
            # The seed's sleep-after-call model, for the drift it shows.
            n = self.args.delay_callers
            if n > 0:
                log(f"baseline: wrk -c{n} with delay1000.lua (sleep 1 s after each response)")
                time.sleep(1.0)
                off = log_size(ts_log)
                r = self.wrk_run(url, n, self.delay_s, HERE / "wrk" / "delay1000.lua")
                wait_log_quiet(ts_log)
                rows = read_ts_log(ts_log, off)
                r["log"] = analyze_schedule(rows, 1000.0, self.skip_s, None)
                r["callers"] = n
                self.check_foreign(f"wrk -c{n} delay1000", r.get("requests", 0), len(rows))
                a["wrk_delay1000"] = r
        finally:
            hello.stop()

        # A6 against limit_req: most answers are 429.
        limit = Nginx(self, "limit-log.conf", PORT_STRICT=self.port["limit_strict_log"],
                      PORT_BURST=self.port["limit_burst_log"], NOFILE=self.nofile,
                      WORKER_CONNECTIONS=4096)
        try:
            strict_log = limit.logs / "limit_strict_ts.log"
            n = self.count_callers
            log(f"A6: agent N={n} against nginx limit_req (strict 5 r/s)")
            time.sleep(1.5)
            off = log_size(strict_log)
            r = self.agent_run(f"http://127.0.0.1:{self.port['limit_strict_log']}/", n, self.agent_s)
            wait_log_quiet(strict_log)
            rows = read_ts_log(strict_log, off)
            r["counting"] = compare_counts(r["reports"], rows)
            r["reports"] = {"totals": r["reports"]["totals"], "completed": r["reports"]["completed"],
                            "intervals": len(r["reports"]["intervals"])}
            r["log"] = analyze_schedule(rows, None, self.skip_s, None)
            a["count_limit"] = r
        finally:
            limit.stop()

    def section_limit(self):
        t = self.raw["runs"].setdefault("limit", {})
        limit = Nginx(self, "limit-log.conf", PORT_STRICT=self.port["limit_strict_log"],
                      PORT_BURST=self.port["limit_burst_log"], NOFILE=self.nofile,
                      WORKER_CONNECTIONS=4096)
        try:
            for name, port, logname, beq in (("nginx strict (burst=0)", self.port["limit_strict_log"],
                                               "limit_strict_ts.log", 1),
                                              ("nginx burst=4 nodelay", self.port["limit_burst_log"],
                                               "limit_burst_ts.log", 5)):
                log(f"T1: {name}")
                time.sleep(2.0)  # the limiter is idle (full burst) at the start
                path = limit.logs / logname
                off = log_size(path)
                r = self.wrk_run(f"http://127.0.0.1:{port}/", 16, self.wrk_s)
                wait_log_quiet(path)
                r.update(analyze_allowed(read_ts_log(path, off), beq))
                self.check_foreign(f"T1 {name}", r.get("requests", 0), r.get("log_total", 0))
                r["burst_equivalent"] = beq
                r["server"] = "nginx"
                t[name] = r
        finally:
            limit.stop()
        for burst in (1, 5):
            name = f"spotlab target --burst {burst}"
            log(f"T1: {name}")
            alog = self.tmp / f"target-burst{burst}-access.log" if self.target_has_access_log else None
            tgt = SpotlabTarget(self, self.port["target"], burst, self.threads, alog)
            try:
                time.sleep(0.5)
                r = self.wrk_run(f"http://127.0.0.1:{self.port['target']}/", 16, self.wrk_s)
            finally:
                r_stderr = tgt.stop()
            r["target_cmd"] = tgt.cmd
            m = re.search(r"stopped: (\d+) allowed, (\d+) throttled", r_stderr)
            if m:
                r["target_allowed"], r["target_throttled"] = int(m.group(1)), int(m.group(2))
            if alog is not None:
                r.update(analyze_allowed(read_ts_log(alog, 0), burst))
            r["burst_equivalent"] = burst
            r["server"] = "spotlab"
            t[name] = r
            if (r.get("rps") or 0) < 100_000:
                self.notes.append(f"T1 {name}: wrk offered {r.get('rps') or 0:,.0f} req/s, below the 100k req/s "
                                  "the goal asks for (the machine was busy or slower); the exactness checks "
                                  "still apply at this load.")

    def section_speed(self):
        s = self.raw["runs"].setdefault("speed", [])
        ngx = Nginx(self, "limit-speed.conf", PORT_STRICT=self.port["limit_strict"],
                    PORT_HELLO=self.port["hello2"], WORKERS=self.threads, NOFILE=self.nofile,
                    WORKER_CONNECTIONS=4096)
        tgt = SpotlabTarget(self, self.port["target"], 1, self.threads)
        servers = {"nginx": (ngx, f"http://127.0.0.1:{self.port['limit_strict']}/"),
                   "spotlab": (tgt, f"http://127.0.0.1:{self.port['target']}/")}
        try:
            for rnd in range(self.rounds):
                order = ["nginx", "spotlab"] if rnd % 2 == 0 else ["spotlab", "nginx"]
                entry = {"round": rnd + 1, "order": order}
                for conns in (16, 1000):
                    for name in order:
                        server, url = servers[name]
                        log(f"T2/T3/T5 round {rnd + 1}: {name} c{conns}")
                        time.sleep(1.0)
                        c0 = server.cpu()
                        r = self.wrk_run(url, conns, self.wrk_s)
                        r["server_cpu_s"] = server.cpu() - c0
                        r.pop("stdout", None)
                        if r.get("requests"):
                            r["server_cpu_us_per_request"] = r["server_cpu_s"] / r["requests"] * 1e6
                        entry[f"{name}_c{conns}"] = r
                def ratio(a, b, key):
                    x, y = entry[a].get(key), entry[b].get(key)
                    return x / y if x and y else None
                entry["t2_ratio"] = ratio("spotlab_c16", "nginx_c16", "rps")
                entry["t3_ratio"] = ratio("spotlab_c16", "nginx_c16", "server_cpu_us_per_request")
                entry["t5_spotlab"] = ratio("spotlab_c1000", "spotlab_c16", "rps")
                entry["t5_nginx"] = ratio("nginx_c1000", "nginx_c16", "rps")
                s.append(entry)
            if "latency" in self.sections:
                self.section_latency(ngx, tgt)
        finally:
            tgt.stop()
            ngx.stop()

    def section_latency(self, ngx=None, tgt=None):
        own = ngx is None
        if own:
            ngx = Nginx(self, "limit-speed.conf", PORT_STRICT=self.port["limit_strict"],
                        PORT_HELLO=self.port["hello2"], WORKERS=self.threads, NOFILE=self.nofile,
                        WORKER_CONNECTIONS=4096)
            tgt = SpotlabTarget(self, self.port["target"], 1, self.threads)
        lat = self.raw["runs"].setdefault("latency", {})
        try:
            hello = f"http://127.0.0.1:{self.port['hello2']}/"
            health = f"http://127.0.0.1:{self.port['target']}/health"
            log("T4: nginx's maximum on its 200 route (wrk -t1 -c16)")
            time.sleep(1.0)
            mx = self.wrk_run(hello, 16, self.wrk_s)
            mx.pop("stdout", None)
            lat["nginx_max"] = mx
            q = int(round((mx.get("rps") or 0) / 2 / 100.0) * 100)
            lat["qps"] = q
            rounds = lat.setdefault("rounds", [])
            if q <= 0:
                self.notes.append("T4 skipped: nginx's maximum could not be measured.")
                return
            for rnd in range(self.rounds):
                order = ["nginx", "spotlab"] if rnd % 2 == 0 else ["spotlab", "nginx"]
                entry = {"round": rnd + 1, "order": order}
                for name in order:
                    log(f"T4 round {rnd + 1}: {name} at {q} req/s")
                    time.sleep(1.0)
                    entry[name] = self.oha_rate_run(hello if name == "nginx" else health, q, 16, self.wrk_s)
                p_s, p_n = entry["spotlab"].get("p99_ms"), entry["nginx"].get("p99_ms")
                entry["p99_ratio"] = p_s / p_n if p_s and p_n else None
                rounds.append(entry)
        finally:
            if own:
                tgt.stop()
                ngx.stop()

    # ------------------------------------------------------------------ driver
    def run(self):
        self.sections = self.args.only or list(SECTIONS)
        self.preflight()
        self.raw["facts"] = self.facts()
        self.raw["command"] = self.args.command_line
        self.raw["settings"] = {
            "quick": self.quick, "rounds": self.rounds, "agent_duration_s": self.agent_s,
            "wrk_duration_s": self.wrk_s, "delay_duration_s": self.delay_s, "callers": self.callers,
            "count_callers": self.count_callers, "delay_callers": self.args.delay_callers, "server_threads": self.threads,
            "skip_s": self.skip_s, "ports": self.port, "sections": self.sections,
        }
        t0 = time.monotonic()
        for sec in SECTIONS:
            if sec not in self.sections:
                self.raw["skipped"].append(sec)
                continue
            if sec == "latency" and "speed" in self.sections:
                continue  # run inside the speed section, with the same servers
            try:
                getattr(self, f"section_{sec}")()
            except Exception as e:  # keep going: report what was measured
                log(f"section {sec} failed: {e!r}")
                self.notes.append(f"Section `{sec}` failed: {e}")
                self.raw.setdefault("failed", {})[sec] = repr(e)
        self.raw["elapsed_s"] = time.monotonic() - t0
        return self.raw


# --------------------------------------------------------------------------- report

def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "**FAIL**")


def rounds_list(values, digits=2):
    return ", ".join(fmt(v, digits) for v in values)


def write_report(raw: dict, md_path: Path) -> None:
    f = raw["facts"]
    st = raw["settings"]
    runs = raw["runs"]
    notes = list(raw.get("notes", []))
    summary = []   # (id, goal, measured, verdict)
    details = []   # markdown blocks

    def add(idx, goal, measured, ok):
        summary.append((idx, goal, measured, verdict(ok)))

    # ---- ratios first
    agent = runs.get("agent", {})
    for n in st["callers"]:
        rs = agent.get(f"n{n}", [])
        ratios = [e.get("cpu_ratio") for e in rs]
        m = median(ratios)
        if rs:
            add("A3", f"agent CPU per scheduled request ÷ oha `-q {n}`, N = {n:,} (same round) ≤ 1.2",
                f"{fmt(m)} (rounds: {rounds_list(ratios)})", m is not None and m <= 1.2)
        else:
            add("A3", f"agent CPU ÷ oha, N = {n:,}", "not run", None)
    speed = runs.get("speed", [])
    if speed:
        t2 = [e["t2_ratio"] for e in speed]
        t3 = [e["t3_ratio"] for e in speed]
        t5 = [e["t5_spotlab"] for e in speed]
        t5n = [e["t5_nginx"] for e in speed]
        m2, m3, m5, m5n = median(t2), median(t3), median(t5), median(t5n)
        add("T2", f"overload req/s (≈all 429), target `--threads {st['server_threads']}` ÷ nginx limit_req "
                  f"{st['server_threads']} workers, wrk c16 ≥ 1.0",
            f"{fmt(m2)} (rounds: {rounds_list(t2)})", m2 is not None and m2 >= 1.0)
        add("T3", "server CPU per answered request, target ÷ nginx (c16) ≤ 1.2",
            f"{fmt(m3)} (rounds: {rounds_list(t3)})", m3 is not None and m3 <= 1.2)
        add("T5", "target overload req/s at c1000 ÷ c16 ≥ 0.9",
            f"{fmt(m5)} (rounds: {rounds_list(t5)}); nginx for context: {fmt(m5n)}", m5 is not None and m5 >= 0.9)
    else:
        add("T2/T3/T5", "overload throughput, CPU, c1000", "not run", None)
    lat = runs.get("latency", {})
    if lat.get("rounds"):
        pr = [e["p99_ratio"] for e in lat["rounds"]]
        m = median(pr)
        add("T4", f"p99 latency at {lat['qps']:,} req/s (½ nginx max), target /health ÷ nginx hello ≤ 1.5",
            f"{fmt(m)} (rounds: {rounds_list(pr)})", m is not None and m <= 1.5)
    else:
        add("T4", "p99 latency ratio", "not run", None)

    # ---- values
    for n in st["callers"]:
        rs = agent.get(f"n{n}", [])
        if not rs:
            continue
        logs = [e["agent"]["log"] for e in rs]
        p99 = [l.get("interval_err_ms_p99") for l in logs]
        dp99 = [l.get("drift_ms_p99_abs") for l in logs]
        dmax = [l.get("drift_ms_max_abs") for l in logs]
        mins = [l.get("per_second_min") for l in logs]
        maxs = [l.get("per_second_max") for l in logs]
        m = median(p99)
        add("A1", f"N = {n:,}: p99 of \\|interval − 1 s\\| per caller ≤ 2 ms",
            f"{fmt(m, 1)} ms (rounds: {rounds_list(p99, 1)}; max {fmt(max((l.get('interval_err_ms_max') or 0) for l in logs), 1)} ms)",
            m is not None and m <= 2)
        md, mm = median(dp99), median(dmax)
        add("A1", f"N = {n:,}: cumulative drift per caller t_last − t_first − k·1 s, p99 of \\|drift\\| ≤ 2 ms (max shown)",
            f"p99 {fmt(md, 1)} ms, max {fmt(mm, 1)} ms (per round p99: {rounds_list(dp99, 1)}; max: {rounds_list(dmax, 1)})",
            md is not None and md <= 2)
        ologs = [e["oha"]["log"] for e in rs if "oha" in e]
        if ologs:
            add("ref", f"N = {n:,}: oha `-q {n} -c 16` in the same rounds (global grid; no per-caller schedule)",
                f"per second {fmt(min((l.get('per_second_min') or 0) for l in ologs))}–"
                f"{fmt(max((l.get('per_second_max') or 0) for l in ologs))}; grid error p99 "
                f"{rounds_list([l.get('grid_err_ms_p99') for l in ologs], 1)} ms (agent: "
                f"{rounds_list([l.get('grid_err_ms_p99') for l in logs], 1)} ms)", None)
        lo, hi = min((x for x in mins if x is not None), default=None), max((x for x in maxs if x is not None), default=None)
        ok = lo is not None and hi is not None and lo >= n * 0.995 and hi <= n * 1.005
        add("A1", f"N = {n:,}: requests per second within ±0.5% ({n * 0.995:,.0f}–{n * 1.005:,.0f})",
            f"min {fmt(lo)}, max {fmt(hi)} (all rounds)", ok)
    big = max(st["callers"])
    rs = agent.get(f"n{big}", [])
    if rs:
        cores = [e["agent"]["cores"] for e in rs]
        m = median(cores)
        add("A3", f"N = {big:,} callers at 1 req/s: agent CPU ≤ 0.2 core (CPU s ÷ the process's wall s)",
            f"{fmt(m, 3)} core (rounds: {rounds_list(cores, 3)})", m is not None and m <= 0.2)
    hello_exact = [(n, e["round"], e["agent"]["counting"]) for n in st["callers"] for e in agent.get(f"n{n}", [])]
    if hello_exact:
        ok = all(c["exact"] for _, _, c in hello_exact)
        txt = "; ".join(f"N={n:,} r{r}: sent {c['agent_sent']:,} / log {c['log_total']:,}, "
                        f"2xx {c['agent_success']:,} / {c['log_2xx']:,}"
                        for n, r, c in hello_exact)
        add("A6", "agent totals = nginx access log totals, hello (all 200), exactly", txt, ok)
    cl = agent.get("count_limit")
    if cl:
        c = cl["counting"]
        add("A6", f"agent totals = access log, nginx limit_req strict, N = {st['count_callers']} callers, exactly",
            f"sent {c['agent_sent']:,} / {c['log_total']:,}; 200 {c['agent_success']:,} / {c['log_2xx']:,}; "
            f"429 {c['agent_throttled']:,} / {c['log_429']:,}; per-second max \\|diff\\| "
            f"{c['per_second_max_abs_diff_success']} (200), {c['per_second_max_abs_diff_throttled']} (429)",
            c["exact"])
    lim = runs.get("limit", {})
    dur = st["wrk_duration_s"]
    for burst in (1, 5):
        r = lim.get(f"spotlab target --burst {burst}")
        if not r:
            continue
        exp = 5 * dur + burst
        allowed = r.get("allowed")
        add("T1", f"target `--burst {burst}`: allowed in {dur} s = 5×{dur} + {burst} = {exp} (±1), "
                  f"offered {fmt(r.get('rps'), 0)} req/s",
            f"{fmt(allowed)} (wrk); target's own count {fmt(r.get('target_allowed'))}; log {fmt(r.get('log_allowed'))}",
            allowed is not None and abs(allowed - exp) <= 1)
        if "steady_rate" in r:
            rate = r.get("steady_rate")
            gmin = r.get("steady_gap_ms_min")
            ok = rate is not None and abs(rate - 5) / 5 <= 0.001
            if burst == 1:
                ok = ok and gmin is not None and gmin >= 199
            add("T1", f"target `--burst {burst}`: gaps between 200s ≥ 199 ms after the burst; rate within 0.1% of 5/s",
                f"gaps {fmt(gmin)}–{fmt(r.get('steady_gap_ms_max'))} ms, rate {fmt(rate, 4)}/s", ok)
        else:
            add("T1", f"target `--burst {burst}`: gaps and rate from the access log", "skipped (no --access-log)", None)
    if any(k.startswith("nginx") for k in lim):
        txt = "; ".join(f"{k}: {fmt(v.get('allowed'))} allowed (log {fmt(v.get('log_allowed'))}), "
                        f"rate {fmt(v.get('steady_rate'), 4)}/s"
                        for k, v in lim.items() if k.startswith("nginx"))
        add("ref", "nginx limit_req, same load (reference, expect 51 and 55)", txt, None)

    # ---- detail tables
    for n in st["callers"]:
        rs = agent.get(f"n{n}", [])
        if not rs:
            continue
        lines = [f"### A1/A3/A6: N = {n:,} callers at 1 req/s, {st['agent_duration_s']} s, against nginx hello",
                 "",
                 "Judged from nginx's access log after the first 2 s, last partial second dropped. "
                 "Grid error: |t_i − i/N − median| over all requests (oha's model).",
                 "",
                 "| Round | Tool | CPU s (user+sys) | µs CPU / sched. req | cores | max RSS MiB | per-s min–max | interval err p50/p99/max ms | drift p99/max ms | grid err p50/p99/max ms | client latency from schedule p50/p99 ms | late / skipped / errors |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for e in rs:
            for tool in e["order"]:
                r = e[tool]
                l = r["log"]
                if tool == "agent":
                    c = r["counting"]
                    extra = f"{c['agent_late']} / {c['agent_skipped']} / {c['agent_errors']}"
                    iv = f"{fmt(l.get('interval_err_ms_p50'), 0)}/{fmt(l.get('interval_err_ms_p99'), 0)}/{fmt(l.get('interval_err_ms_max'), 0)}"
                    dr = f"{fmt(l.get('drift_ms_p99_abs'), 0)}/{fmt(l.get('drift_ms_max_abs'), 0)}"
                else:
                    errs = r.get("errors") or {}
                    extra = ("oha errors: " + ", ".join(f"{v} {k}" for k, v in errs.items())) if errs else "oha errors: 0"
                    iv, dr = "—", "—"
                lines.append(
                    f"| {e['round']} | {'spotlab agent' if tool == 'agent' else 'oha -q'} | {fmt(r['cpu_s'])} | "
                    f"{fmt(r['cpu_us_per_scheduled'], 1)} | {fmt(r['cores'], 3)} | {fmt(r['maxrss_mib'], 1)} | "
                    f"{fmt(l.get('per_second_min'))}–{fmt(l.get('per_second_max'))} | {iv} | {dr} | "
                    f"{fmt(l.get('grid_err_ms_p50'), 1)}/{fmt(l.get('grid_err_ms_p99'), 1)}/{fmt(l.get('grid_err_ms_max'), 1)} | "
                    f"{fmt(r.get('p50_ms'), 2)}/{fmt(r.get('p99_ms'), 2)} | {extra} |")
        lines.append("")
        lines.append("| Round | agent ÷ oha CPU | agent sent / log lines | agent 2xx / log 2xx | per-s max \\|diff\\| 2xx | exit code |")
        lines.append("|---|---|---|---|---|---|")
        for e in rs:
            c = e["agent"]["counting"]
            lines.append(f"| {e['round']} | {fmt(e['cpu_ratio'])} | {c['agent_sent']:,} / {c['log_total']:,} | "
                         f"{c['agent_success']:,} / {c['log_2xx']:,} | {c['per_second_max_abs_diff_success']} | {e['agent']['rc']} |")
        details.append("\n".join(lines))
    wd = agent.get("wrk_delay1000")
    if wd:
        l = wd["log"]
        details.append("\n".join([
            f"### Baseline: the seed's sleep-after-call model (`wrk -t1 -c{wd['callers']} -d{st['delay_duration_s']}s -s delay1000.lua`)",
            "",
            "| per-s min–max | interval err p50/p90/p99/max ms | mean drift per interval ms | drift max ms | wrk req/s (ideal = connections) | client CPU s |",
            "|---|---|---|---|---|---|",
            f"| {fmt(l.get('per_second_min'))}–{fmt(l.get('per_second_max'))} | {fmt(l.get('interval_err_ms_p50'), 0)}/"
            f"{fmt(l.get('interval_err_ms_p90'), 0)}/{fmt(l.get('interval_err_ms_p99'), 0)}/{fmt(l.get('interval_err_ms_max'), 0)} | "
            f"{fmt(l.get('drift_ms_per_interval_mean'), 2)} | {fmt(l.get('drift_ms_max_abs'), 0)} | {fmt(wd.get('rps'), 1)} | {fmt(wd['cpu_s'])} |",
        ]))
    if cl:
        c = cl["counting"]
        t = cl["reports"]["totals"]
        details.append("\n".join([
            f"### A6: exact counting against nginx limit_req (strict 5 r/s), N = {st['count_callers']} callers, {st['agent_duration_s']} s",
            "",
            "| | sent | 200 | 429 | other statuses / errors | timeouts | late | skipped |",
            "|---|---|---|---|---|---|---|---|",
            f"| agent reports (sum of intervals) | {t['sent']:,} | {t['success']:,} | {t['throttled']:,} | "
            f"{t['client_error'] + t['server_error']} / {t['connection_error']} | {t['timeout']} | {t['late']} | {t['skipped']} |",
            f"| nginx access log | {c['log_total']:,} | {c['log_2xx']:,} | {c['log_429']:,} | "
            f"{c['log_total'] - c['log_2xx'] - c['log_429']} | — | — | — |",
            "",
            f"Per-second buckets ({c['per_second_buckets']}): max \\|agent − log\\| = {c['per_second_max_abs_diff_success']} "
            f"for 200s and {c['per_second_max_abs_diff_throttled']} for 429s (a completion near a second boundary can land "
            "in the neighbouring bucket; totals must be equal).",
        ]))
    if lim:
        lines = [f"### T1: exact limiting, `wrk -t1 -c16 -d{dur}s`, rate 5/s",
                 "",
                 "| Server | offered req/s | requests | allowed (wrk) | allowed (log) | per 1 s window | first gaps ms | steady gaps min–max ms | steady rate /s |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for k, r in lim.items():
            lines.append(f"| {k} | {fmt(r.get('rps'), 0)} | {fmt(r.get('requests'))} | {fmt(r.get('allowed'))} | "
                         f"{fmt(r.get('log_allowed'))} | {r.get('per_window', 'n/a')} | {r.get('first_gaps_ms', 'n/a')} | "
                         f"{fmt(r.get('steady_gap_ms_min'))}–{fmt(r.get('steady_gap_ms_max'))} | {fmt(r.get('steady_rate'), 4)} |")
        details.append("\n".join(lines))
    if speed:
        lines = [f"### T2/T3/T5: overload, `wrk -t1 -cC -d{dur}s`, nginx limit_req ({st['server_threads']} workers) vs "
                 f"spotlab target (`--threads {st['server_threads']} --burst 1`)",
                 "",
                 "| Round | Server | conns | req/s | allowed | server CPU s | server µs CPU / req | wrk CPU s | socket errors |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for e in speed:
            for conns in (16, 1000):
                for name in e["order"]:
                    r = e[f"{name}_c{conns}"]
                    lines.append(f"| {e['round']} | {name} | {conns} | {fmt(r.get('rps'), 0)} | {fmt(r.get('allowed'))} | "
                                 f"{fmt(r.get('server_cpu_s'))} | {fmt(r.get('server_cpu_us_per_request'))} | {fmt(r['cpu_s'])} | "
                                 f"{r.get('socket_errors', 'n/a')} |")
        lines += ["", "| Round | T2 target÷nginx c16 | T3 CPU/req target÷nginx | T5 target c1000÷c16 | nginx c1000÷c16 |",
                  "|---|---|---|---|---|"]
        for e in speed:
            lines.append(f"| {e['round']} | {fmt(e['t2_ratio'])} | {fmt(e['t3_ratio'])} | {fmt(e['t5_spotlab'])} | {fmt(e['t5_nginx'])} |")
        lines.append(f"| median | {fmt(median([e['t2_ratio'] for e in speed]))} | {fmt(median([e['t3_ratio'] for e in speed]))} | "
                     f"{fmt(median([e['t5_spotlab'] for e in speed]))} | {fmt(median([e['t5_nginx'] for e in speed]))} |")
        details.append("\n".join(lines))
    if lat.get("rounds"):
        mx = lat["nginx_max"]
        lines = [f"### T4: latency at half of nginx's maximum (`oha --no-tui --worker-threads 1 -q {lat['qps']} -c 16 "
                 f"-z {dur}s --latency-correction`)",
                 "",
                 f"nginx maximum on its 200 route (`wrk -t1 -c16`): {fmt(mx.get('rps'), 0)} req/s → Q = {lat['qps']:,}.",
                 "",
                 "| Round | Server | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | statuses |",
                 "|---|---|---|---|---|---|---|---|"]
        for e in lat["rounds"]:
            for name in e["order"]:
                r = e[name]
                lines.append(f"| {e['round']} | {name} {'hello' if name == 'nginx' else '/health'} | {fmt(r.get('rps'), 0)} | "
                             f"{fmt(r.get('p50_ms'), 3)} | {fmt(r.get('p90_ms'), 3)} | {fmt(r.get('p99_ms'), 3)} | "
                             f"{fmt(r.get('p99.9_ms'), 3)} | {r.get('status')} |")
        details.append("\n".join(lines))

    # ---- suspicious things worth a human look
    for n in st["callers"]:
        for e in agent.get(f"n{n}", []):
            r = e["agent"]
            c = r["counting"]
            if r["rc"] != 0:
                notes.append(f"agent N={n:,} round {e['round']} exited with code {r['rc']}.")
            if not c["exact"]:
                notes.append(f"agent N={n:,} round {e['round']}: counts differ from the access log "
                             f"(sent {c['agent_sent']} vs {c['log_total']}, 2xx {c['agent_success']} vs {c['log_2xx']}, "
                             f"completed {c['agent_completed']}).")
            if r.get("stderr_warning_count"):
                notes.append(f"agent N={n:,} round {e['round']}: {r['stderr_warning_count']} WARN/ERROR log lines, "
                             f"first: `{r['stderr_warnings'][0][:200]}`")
    if cl and not cl["counting"]["exact"]:
        notes.append("agent vs nginx limit_req: counts differ (see the A6 table).")

    total_min = raw.get("elapsed_s", 0) / 60
    out = [
        "# spotlab data-plane benchmark",
        "",
        f"Generated by `bench/dataplane/bench.py` on {f['date_utc']} ({'QUICK mode: short runs, one round — for development, not for the record' if st['quick'] else 'full run'}).",
        "",
        f"Command: `{raw['command']}`  ",
        f"Commit: {f['git']}  ",
        f"Run time: {total_min:.1f} min. Raw per-round numbers: [`dataplane-raw.json`](dataplane-raw.json).",
        "",
        "**Machine:** "
        f"{f['nproc']} CPUs ({f['cpu_model']}), Linux {f['kernel']}, {f['mem_total']} memory, "
        f"load average at start {' '.join(f['loadavg_at_start'])}, open-file limit {f['nofile']:,}, "
        f"ip_local_port_range {f['ip_local_port_range']}, tcp_tw_reuse {f['tcp_tw_reuse']}.  ",
        "**Versions:** " + "; ".join(f"{k}: {v}" for k, v in f["versions"].items()) + ".",
        "",
        "Everything runs on 127.0.0.1 on the same cores, so absolute req/s are indicative only; "
        "the ratios (measured in the same round, A/B order alternating between rounds) and the "
        "exactness results are what count.",
        "",
        "## Results (ratios first)",
        "",
        "| Goal | Target and bar | Measured (median; per round) | Result |",
        "|---|---|---|---|",
    ]
    for idx, goal, measured, v in summary:
        out.append(f"| {idx} | {goal} | {measured} | {v} |")
    if raw.get("skipped"):
        out += ["", f"Sections not run: {', '.join(raw['skipped'])}."]
    if notes:
        out += ["", "## Notes and anomalies", ""] + [f"- {n}" for n in notes]
    out += ["", "## Details", ""]
    for block in details:
        out += [block, ""]
    out += [
        "## How measured",
        "",
        "- One command: `bench/dataplane/run.sh` installs the peers (`setup.sh`: Debian nginx-light and wrk, "
        "oha 1.16.0 from crates.io), builds `spotlab` in release, raises the open-file limit and runs `bench.py`. "
        "Servers listen on 127.0.0.1 only, on ports from `--base-port` (default 28080); every process is stopped by pid.",
        f"- **A1** (schedule fidelity): `spotlab agent --callers N --rate 1 --duration {st['agent_duration_s']}s --threads 1` "
        "against nginx `return 200` with a `$msec $remote_port $status` access log (1 worker). The first 2 s and the last "
        "partial second are dropped. Per caller (remote port): |interval − 1 s| (1 ms log resolution) and cumulative "
        "drift t_last − t_first − k·1 s; per second: the total. oha `-q N -c 16 --latency-correction` runs in the same "
        "round as the reference, judged as a global grid (|t_i − i/N − median|) and by per-second totals. Goals "
        "are judged on the median over rounds; every round is shown.",
        "- **A3** (cost): client CPU = user+sys from `os.wait4` rusage of the client process, divided by the scheduled "
        "requests (N × duration); agent ÷ oha in the same round. Cores = CPU s ÷ the client process's wall time (start-up and drain included). Max RSS from rusage.",
        "- **A6** (exact counting): the sum of the agent's per-second report intervals (`--report FILE.jsonl`) "
        "against the server's access log for the same run: sent = log lines, success = 2xx, throttled = 429, and every "
        "sent request completed. Per-second buckets are compared by the interval's start second and the log's second.",
        f"- **T1** (exact limiting): `wrk -t1 -c16 -d{dur}s` against a fresh `spotlab target --rate 5 --burst B "
        f"--threads {st['server_threads']}` (with `--access-log` when available), and against nginx limit_req "
        "(1 worker, access log, strict and `burst=4 nodelay` which admits 5 at once, the same as B = 5) after 2 s idle. "
        "Allowed = wrk's requests − Non-2xx. Steady gaps and rate are measured from the B-th allowed request on.",
        f"- **T2/T3/T5** (overload): `wrk -t1 -c16` then `-c1000`, {dur} s each, against nginx limit_req strict "
        f"({st['server_threads']} workers, no log, `try_files` 200 body) and `spotlab target --threads {st['server_threads']} "
        "--burst 1`, alternating. Server CPU = utime+stime deltas from /proc/PID/stat (nginx: master + workers), per "
        "request answered as counted by wrk.",
        f"- **T4** (latency): nginx's maximum is `wrk -t1 -c16` on its `return 200` route ({st['server_threads']} workers); "
        "then `oha -q (max/2) -c 16 --latency-correction` against nginx's 200 route and the target's `/health`, alternating; "
        "p99 ratio per round.",
        "- Caveats: the agent's and oha's per-caller timings are judged at 1 ms log resolution; nginx's `$msec` is the time "
        "the request was logged (after the response), which adds the server's own scheduling jitter.",
        "",
    ]
    md_path.write_text("\n".join(out))


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (5-8 s), N = 1,000 only, one round")
    ap.add_argument("--rounds", type=int, help="rounds of A/B comparisons (default 3, quick 1)")
    ap.add_argument("--agent-duration", type=int, help="seconds per agent/oha rate run (default 60, quick 8)")
    ap.add_argument("--wrk-duration", type=int, help="seconds per wrk/oha speed run (default 10, quick 5)")
    ap.add_argument("--delay-duration", type=int, help="seconds of the wrk delay1000 baseline (default 30, quick 8)")
    ap.add_argument("--callers", type=int, nargs="+", help="agent caller counts (default 1000 10000, quick 1000)")
    ap.add_argument("--delay-callers", type=int, default=1000,
                    help="connections of the wrk sleep-after-call baseline (1000; 0 skips it)")
    ap.add_argument("--count-callers", type=int, default=100, help="callers for the limit_req counting run (100)")
    ap.add_argument("--server-threads", type=int, default=2, help="target threads = nginx workers for speed (2)")
    ap.add_argument("--base-port", type=int, default=28080, help="first of 7 ports on 127.0.0.1 (28080)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "DATAPLANE.md")
    ap.add_argument("--raw", type=Path, default=ROOT / "bench" / "dataplane-raw.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the Markdown from an existing --raw file")
    args = ap.parse_args()
    args.command_line = os.environ.get("SPOTLAB_BENCH_COMMAND") or \
        "bench/dataplane/run.sh " + " ".join(shlex.quote(a) for a in sys.argv[1:])

    if args.report_only:
        write_report(json.loads(args.raw.read_text()), args.out)
        log(f"wrote {args.out}")
        return

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    bench = Bench(args)
    try:
        raw = bench.run()
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}): stopping every process this run started; no report written")
        PROCS.stop_all()
        shutil.rmtree(bench.tmp, ignore_errors=True)
        sys.exit(130)
    try:
        raw["notes"] = bench.notes
        args.raw.write_text(json.dumps(raw, indent=1, default=str) + "\n")
        write_report(raw, args.out)
        log(f"wrote {args.out} and {args.raw}" + (f" (logs kept in {bench.tmp})" if args.keep else ""))
    finally:
        PROCS.stop_all()
        if not args.keep:
            shutil.rmtree(bench.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
