#!/usr/bin/env python3
"""spotlab EC2 control-plane benchmark: driver and analysis (Python 3.11, stdlib + boto3).

Measures `spotlab up`'s EC2 endpoint side by side with moto's server mode, in one run on
127.0.0.1, and writes bench/EC2.md (ratios first) and bench/ec2-raw.json (every number).
Run it through bench/ec2/run.sh, which makes the Python environment (boto3, moto), builds
oha and spotlab first, and runs this file with that environment's Python.

Sections (all by default; --only picks some):
  replay    per round: a fresh `spotlab up` and a fresh moto_server, the same fixtures
            through boto3 on both (a VPC, two subnets, a launch template without user
            data, a maintain fleet of 1,000 t2.small), the exact request bodies boto3
            sends for six calls captured from botocore's `before-send` event, each
            replayed with oha over keep-alive connections (8 connections for throughput,
            1 connection for latency), one server at a time, A/B order alternating; then
            the same calls through boto3, one after another (the SDK's end-to-end view)
  capacity  instances each running `spotlab agent` against a loopback `spotlab target`,
            a maintain fleet stepped up until the control plane's own CPU passes 10% of
            a core, the run's own processes saturate the cores, agents fail to start, or
            the last step
  launch    wall time from CreateFleet returning to every instance `running`, and to
            each instance's user data running, for fleets of 1 and 100
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import botocore
from botocore.config import Config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
SECTIONS = ("replay", "capacity", "launch")
SERVERS = ("spotlab", "moto")
# The replayed calls, in the order each round runs them. CreateFleet comes last: moto does
# not honour ClientToken, so every replay adds a fleet and its instances to its state, and
# the describe calls must not pay for that.
CALLS = ("DescribeFleets", "DescribeFleetInstances", "DescribeSpotPriceHistory",
         "DescribeInstances-1000", "CreateFleet-6", "CreateFleet-300")
SMALL = ("DescribeFleets", "DescribeFleetInstances", "DescribeSpotPriceHistory", "CreateFleet-6")
RATIO_GOAL = 10.0
P99_GOAL_MS = 5.0
CPU_GOAL = 0.10
# A run is "clean" when the rest of the machine used at most this many cores meanwhile.
OTHER_LIMIT = 0.25
AMI = "ami-12c6146b"           # any id works on spotlab; moto wants one that looks real
FORM = "application/x-www-form-urlencoded; charset=utf-8"
REPLAY_HEADERS = ("Content-Type", "X-Amz-Date", "Authorization")
# Marks every process a `spotlab up` of this run starts (instances inherit the host's
# environment minus AWS_* and SPOTLAB_*), so stragglers can be found and stopped by pid.
RUN_MARK = "EC2BENCH_RUN"


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


def worst(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def fmt(v, digits=2, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    if abs(v) >= 1000:
        return f"{v:,.0f}{unit}"
    if abs(v) >= 100:
        return f"{v:.0f}{unit}"
    return f"{v:.{digits}f}{unit}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}) before port {port} opened")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {timeout} s")


def proc_cpu(pid: int) -> float:
    """utime+stime of one process (all its threads, not its children), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat (busy excludes idle and iowait)."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    return total - idle, total


def mem_available_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1048576
    except (OSError, ValueError, IndexError):
        pass
    return None


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def marked_pids(mark: str) -> list[int]:
    """Live processes whose environment carries RUN_MARK=mark (ours, by construction)."""
    needle = f"{RUN_MARK}={mark}".encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            out.append(int(entry))
    return out


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def clean_env() -> dict:
    """The environment for children: no SPOTLAB_* or AWS_* settings leak in from the caller."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("SPOTLAB_", "AWS_")) and k != RUN_MARK}


def local_tag(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def items_under(root, container: str) -> int:
    """Items of every `<container><item>...` list in an EC2 XML answer."""
    return sum(sum(1 for c in el if local_tag(c) == "item")
               for el in root.iter() if local_tag(el) == container)


def text_of(root, name: str) -> str | None:
    for el in root.iter():
        if local_tag(el) == name:
            return el.text
    return None


# -------------------------------------------------------------------------- processes

class Procs:
    """Every long-lived process this run started, stopped by pid (process group) at exit,
    and the marked stragglers of any `spotlab up` it started."""

    def __init__(self):
        self.live: list[subprocess.Popen] = []
        self.marks: list[str] = []

    def add(self, p):
        self.live.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=15.0) -> str:
        """Stops `p`'s process group; returns how: `exited`, `killed after N s`, `gone`."""
        how = "gone"
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
                how = "exited"
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
                how = f"killed (SIGKILL) after {timeout:.0f} s"
        else:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.live:
            self.live.remove(p)
        return how

    def reap_marked(self, mark: str) -> int:
        """SIGKILLs, by pid, every process carrying `mark` (instances a killed control
        plane left behind). Returns how many there were."""
        pids = marked_pids(mark)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop_all(self):
        for p in list(reversed(self.live)):
            self.stop(p, timeout=5.0)
        for mark in self.marks:
            self.reap_marked(mark)


PROCS = Procs()


class Server:
    """One EC2 endpoint under test: a `spotlab up` or a moto_server."""

    def __init__(self, name: str, cmd: list[str], port: int, tmp: Path, env: dict | None = None,
                 announce: str | None = None, mark: str | None = None):
        self.name = name
        self.port = port
        self.state_dir = Path(cmd[cmd.index("--state-dir") + 1]) if "--state-dir" in cmd else None
        self.url = f"http://127.0.0.1:{port}"
        self.cmd = cmd
        self.mark = mark
        self.stdout_path = tmp / f"{name}-{port}.stdout"
        self.stderr_path = tmp / f"{name}-{port}.stderr"
        log(f"start {name}: {' '.join(shlex.quote(c) for c in cmd)}")
        self.proc = PROCS.add(subprocess.Popen(
            cmd, stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"),
            start_new_session=True, env=env or clean_env(), cwd=tmp))
        try:
            wait_port(port, self.proc, timeout=30.0)
            if announce:
                deadline = time.monotonic() + 10
                while announce not in self.stdout_path.read_text(errors="replace"):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not print {announce!r}")
                    time.sleep(0.05)
        except RuntimeError as e:
            PROCS.stop(self.proc, timeout=5)
            raise RuntimeError(f"{name} did not start: {e}\n"
                               + self.stderr_path.read_text(errors="replace")[-2000:]) from None
        self.first_line = self.stdout_path.read_text(errors="replace").splitlines()[:1]

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def stop(self) -> str:
        """SIGTERM, 15 s, SIGKILL; then the marked stragglers. Returns what happened."""
        how = PROCS.stop(self.proc, sig=signal.SIGTERM, timeout=15.0)
        if self.mark:
            n = PROCS.reap_marked(self.mark)
            if n:
                how += f"; {n} instance process(es) outlived it and were killed"
        log(f"stopped {self.name}: {how}")
        return how


def ec2_client(url: str, timeout=300):
    return boto3.client(
        "ec2", region_name="us-east-1", endpoint_url=url,
        aws_access_key_id="bench", aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      connect_timeout=10, read_timeout=timeout, max_pool_connections=2))


class Capture:
    """The last request botocore sent through a client (from its `before-send` event)."""

    def __init__(self, client):
        self.last: dict | None = None
        client.meta.events.register("before-send.ec2.*", self.hook)

    def hook(self, request, **_):
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        headers = {}
        for k, v in request.headers.items():
            headers[k] = v.decode() if isinstance(v, bytes) else str(v)
        self.last = {"body": body or b"", "headers": headers, "url": request.url}
        return None  # let the request go through


def call_captured(client, cap: Capture, method: str, kwargs: dict):
    cap.last = None
    response = getattr(client, method)(**kwargs)
    if cap.last is None:
        raise RuntimeError(f"{method}: nothing captured")
    return response, cap.last


# ------------------------------------------------------------------------------ bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        q = self.quick
        self.rounds = args.rounds or (1 if q else 2)
        self.replay_s = args.replay_duration or (3 if q else 10)
        self.latency_s = args.latency_duration or (2 if q else 5)
        self.connections = args.connections
        self.sdk_n = {"small": 30 if q else 200, "DescribeInstances-1000": 3 if q else 10,
                      "create": 10 if q else 50}
        # CreateFleet with a new ClientToken per call: each one is a new fleet of 4 (1,000 +
        # these stay under spotlab's --max-instances 2000).
        self.fresh_n = {"CreateFleet-6": 20 if q else 100, "CreateFleet-300": 10 if q else 40}
        self.fleet_size = args.fleet_size
        self.steps = args.steps or ([10, 25] if q else [25, 50, 100, 200, 400, 800, 1200, 1600])
        self.window_s = args.window or (6 if q else 20)
        self.launch_sizes = args.launch_sizes or ([1, 10] if q else [1, 100])
        self.spotlab = str(ROOT / "target" / "release" / "spotlab")
        cache = Path(os.environ.get("SPOTLAB_BENCH_CACHE", Path.home() / ".cache" / "spotlab-bench"))
        self.oha = shutil.which("oha", path=str(cache / "bin")) or shutil.which("oha")
        self.moto = str(Path(sys.executable).parent / "moto_server")
        self.tmp = Path(tempfile.mkdtemp(prefix="spotlab-ec2-"))
        self.raw: dict = {"rounds": [], "skipped": []}
        self.notes: list[str] = []
        self.defects: list[str] = []
        self.seq = 0
        self.commands: dict[str, str] = {}

    # ------------------------------------------------------------------ setup
    def preflight(self):
        missing = [n for n, p in (("spotlab", self.spotlab), ("oha", self.oha), ("moto_server", self.moto))
                   if not p or not Path(p).exists()]
        if missing:
            sys.exit(f"missing tools: {', '.join(missing)} (run bench/ec2/setup.sh and "
                     "cargo build --release -p spotlab; run this file with the venv's python)")

    def facts(self) -> dict:
        def first(cmd):
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
                return (r.stdout + r.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "n/a"
        from importlib.metadata import version
        model = "n/a"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        git = first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True,
                               text=True).stdout.strip()
        mem = mem_available_gib()
        total = None
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                total = int(line.split()[1]) / 1048576
        return {
            "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "nproc": os.cpu_count(),
            "cpu_model": model,
            "kernel": os.uname().release,
            "loadavg_at_start": loadavg(),
            "mem_total_gib": round(total, 1) if total else None,
            "mem_available_gib_at_start": round(mem, 1) if mem else None,
            "git": git + (" (work tree has uncommitted changes)" if dirty else ""),
            "versions": {
                "spotlab": first([self.spotlab, "--version"]),
                "moto": version("moto"),
                "werkzeug": version("werkzeug"),
                "boto3": version("boto3"),
                "botocore": version("botocore"),
                "oha": first([self.oha, "--version"]),
                "python": sys.version.split()[0],
            },
        }

    def path(self, stem: str) -> Path:
        self.seq += 1
        return self.tmp / f"{self.seq:03d}-{stem}"

    # ------------------------------------------------------------------ servers
    def start_spotlab(self, *, time_scale: int, extra=(), label="spotlab") -> Server:
        port = free_port()
        state = self.tmp / f"{label}-state-{port}"
        cmd = [self.spotlab, "up", "--state-dir", str(state), "--listen", f"127.0.0.1:{port}",
               "--time-scale", str(time_scale), "--seed", "1", "--max-instances", "2000",
               "--max-vcpus", "100000", *extra]
        mark = uuid.uuid4().hex
        PROCS.marks.append(mark)
        env = clean_env()
        env[RUN_MARK] = mark
        server = Server("spotlab", cmd, port, self.tmp, env=env,
                        announce="spotlab up: local cloud at", mark=mark)
        if not server.first_line or not server.first_line[0].startswith("spotlab up: local cloud at http://"):
            raise RuntimeError(f"spotlab up printed {server.first_line!r}")
        self.commands.setdefault(f"spotlab up ({label})", " ".join(shlex.quote(c) for c in cmd)
                                 .replace(str(self.tmp), "$TMP"))
        return server

    def start_moto(self) -> Server:
        port = free_port()
        cmd = [self.moto, "-H", "127.0.0.1", "-p", str(port)]
        server = Server("moto", cmd, port, self.tmp)
        self.commands.setdefault("moto", "moto_server -H 127.0.0.1 -p PORT")
        return server

    # ------------------------------------------------------------------ fixtures
    def offerings(self, client) -> set[tuple[str, str]]:
        pairs, token = set(), None
        while True:
            kw = {"LocationType": "availability-zone", "MaxResults": 1000}
            if token:
                kw["NextToken"] = token
            page = client.describe_instance_type_offerings(**kw)
            pairs |= {(o["InstanceType"], o["Location"]) for o in page["InstanceTypeOfferings"]}
            token = page.get("NextToken")
            if not token:
                return pairs

    def count_running(self, client) -> int:
        n, token = 0, None
        while True:
            kw = {"MaxResults": 1000, "Filters": [{"Name": "instance-state-name", "Values": ["running"]}]}
            if token:
                kw["NextToken"] = token
            page = client.describe_instances(**kw)
            n += sum(len(r["Instances"]) for r in page["Reservations"])
            token = page.get("NextToken")
            if not token:
                return n

    def fixtures(self, server: Server, types300: list[str] | None) -> dict:
        """Builds the same fixtures on `server` and captures the six calls' bodies. Returns
        {call: {method, kwargs, body, headers, sdk_answer}} plus ids."""
        c = ec2_client(server.url)
        cap = Capture(c)
        t0 = time.monotonic()
        vpc = c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet_a = c.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/20",
                                   AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        subnet_b = c.create_subnet(VpcId=vpc, CidrBlock="10.0.16.0/20",
                                   AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        lt = c.create_launch_template(
            LaunchTemplateName="ec2-bench",
            LaunchTemplateData={"ImageId": AMI, "InstanceType": "t2.small"},
        )["LaunchTemplate"]["LaunchTemplateId"]
        lts = {"LaunchTemplateId": lt, "Version": "1"}
        big = c.create_fleet(
            Type="maintain",
            TargetCapacitySpecification={"TotalTargetCapacity": self.fleet_size,
                                         "SpotTargetCapacity": self.fleet_size,
                                         "DefaultTargetCapacityType": "spot"},
            SpotOptions={"AllocationStrategy": "diversified"},
            LaunchTemplateConfigs=[{"LaunchTemplateSpecification": lts, "Overrides": [
                {"InstanceType": "t2.small", "SubnetId": subnet_a, "WeightedCapacity": 1.0},
                {"InstanceType": "t2.small", "SubnetId": subnet_b, "WeightedCapacity": 1.0}]}],
        )
        big_id = big["FleetId"]
        deadline = time.monotonic() + 180
        while True:
            running = self.count_running(c)
            if running >= self.fleet_size:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.name}: the {self.fleet_size}-instance fleet has "
                                   f"{running} running after 180 s")
            time.sleep(0.5)
        fleet_ready_s = time.monotonic() - t0
        log(f"  {server.name}: VPC, subnets, template and {running} running instances in {fleet_ready_s:.1f} s")

        out = {"ids": {"vpc": vpc, "subnets": [subnet_a, subnet_b], "launch_template": lt,
                       "big_fleet": big_id},
               "fixture_s": fleet_ready_s, "calls": {}}
        # CreateFleet, the walkthrough's request (examples/create_fleet.json) with the
        # overrides placed by subnet, sent for real: it is also the fleet described below.
        walkthrough = json.loads((ROOT / "examples" / "create_fleet.json").read_text())
        for cfg in walkthrough["LaunchTemplateConfigs"]:
            cfg["LaunchTemplateSpecification"] = dict(lts)
            for o in cfg["Overrides"]:
                zone = o.pop("AvailabilityZone")
                o["SubnetId"] = subnet_a if zone == "us-east-1a" else subnet_b
        walkthrough["ClientToken"] = "spotlab-bench-create-fleet-6"
        self.capture_call(out, "CreateFleet-6", c, cap, "create_fleet", walkthrough)
        small_fleet = out["calls"]["CreateFleet-6"]["sdk_answer"]["FleetId"]
        out["ids"]["small_fleet"] = small_fleet
        if types300:
            body300 = json.loads(json.dumps(walkthrough))
            body300["ClientToken"] = "spotlab-bench-create-fleet-300"
            body300["LaunchTemplateConfigs"][0]["Overrides"] = [
                {"InstanceType": t, "WeightedCapacity": 1.0, "SubnetId": s}
                for t in types300 for s in (subnet_a, subnet_b)]
            self.capture_call(out, "CreateFleet-300", c, cap, "create_fleet", body300)
        self.capture_call(out, "DescribeFleets", c, cap, "describe_fleets", {"FleetIds": [small_fleet]})
        self.capture_call(out, "DescribeFleetInstances", c, cap, "describe_fleet_instances",
                          {"FleetId": small_fleet})
        self.capture_call(out, "DescribeSpotPriceHistory", c, cap, "describe_spot_price_history", {
            "InstanceTypes": ["t2.small"], "AvailabilityZone": "us-east-1a",
            "StartTime": dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)})
        self.capture_call(out, "DescribeInstances-1000", c, cap, "describe_instances", {"MaxResults": 1000})
        return out

    def capture_call(self, out, call, client, cap, method, kwargs):
        t = time.perf_counter()
        answer, req = call_captured(client, cap, method, kwargs)
        took = time.perf_counter() - t
        answer.pop("ResponseMetadata", None)
        out["calls"][call] = {"method": method, "kwargs": kwargs, "body": req["body"],
                              "headers": {k: req["headers"][k] for k in REPLAY_HEADERS if k in req["headers"]},
                              "sdk_answer": answer, "sdk_first_s": took}

    # ------------------------------------------------------------------ raw replays
    def raw_send(self, server: Server, body: bytes, headers: dict, times=1) -> list[dict]:
        """Sends `body` `times` times on one keep-alive connection; status, size, XML check."""
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        out = []
        try:
            for _ in range(times):
                t = time.perf_counter()
                conn.request("POST", "/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out.append(self.check_answer(resp.status, data, time.perf_counter() - t))
        finally:
            conn.close()
        return out

    @staticmethod
    def check_answer(status: int, data: bytes, took: float) -> dict:
        res = {"status": status, "bytes": len(data), "ms": took * 1000.0}
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            res["xml"] = f"not XML: {e}"
            res["head"] = data[:300].decode(errors="replace")
            return res
        res["root"] = local_tag(root)
        res["xml"] = "ok"
        if status != 200:
            res["error_code"] = text_of(root, "Code")
            res["error_message"] = text_of(root, "Message")
            return res
        res["counts"] = {k: items_under(root, k) for k in
                         ("fleetSet", "activeInstanceSet", "spotPriceHistorySet", "reservationSet",
                          "instancesSet", "fleetInstanceSet", "errorSet")
                         if items_under(root, k)}
        res["fleet_id"] = text_of(root, "fleetId")
        return res

    def expect(self, call: str, answer: dict) -> str | None:
        """What is wrong with a replayed answer for `call`, or None."""
        if answer["status"] != 200:
            return f"HTTP {answer['status']} {answer.get('error_code')}: {answer.get('error_message') or answer.get('head')}"
        if answer.get("xml") != "ok":
            return f"HTTP 200 but {answer.get('xml')}"
        root = answer.get("root", "")
        action = call.split("-")[0]
        if root != f"{action}Response":
            return f"root element {root}, expected {action}Response"
        counts = answer.get("counts", {})
        if action == "DescribeInstances" and counts.get("instancesSet", 0) < self.fleet_size:
            return f"{counts.get('instancesSet', 0)} instances in the answer, expected {self.fleet_size}"
        if action == "DescribeFleets" and counts.get("fleetSet", 0) != 1:
            return f"{counts.get('fleetSet', 0)} fleets in the answer, expected 1"
        if action == "DescribeSpotPriceHistory" and not counts.get("spotPriceHistorySet"):
            return "no price in the answer"
        if action == "CreateFleet" and not answer.get("fleet_id"):
            return "no fleetId in the answer"
        return None

    def oha_run(self, server: Server, call: str, fx: dict, conns: int, secs: int) -> dict:
        body_path = self.path(f"{server.name}-{call}.body")
        body_path.write_bytes(fx["body"])
        cmd = [self.oha, "-z", f"{secs}s", "-c", str(conns), "--no-tui", "-w", "-m", "POST"]
        for k, v in fx["headers"].items():
            cmd += ["-H", f"{k}: {v}"]
        cmd += ["-D", str(body_path), "--output-format", "json", server.url + "/"]
        if self.args.oha_threads:
            cmd[1:1] = ["--worker-threads", str(self.args.oha_threads)]
        shown = ["oha"] + [("'" + c.split(":")[0] + ": ...'" if c.startswith(("Authorization:", "X-Amz-Date:"))
                            else shlex.quote(c)) for c in cmd[1:]]
        shown = " ".join(shown).replace(str(body_path), "BODY-FILE").replace(server.url, "http://127.0.0.1:PORT")
        self.commands.setdefault(f"oha c{conns}", shown)
        out_path = body_path.with_suffix(".json")
        log_mark = server.stderr_path.stat().st_size
        busy0 = machine_cpu()[0]
        cpu0 = server.cpu()
        t0 = time.monotonic()
        with open(out_path, "wb") as out, open(body_path.with_suffix(".err"), "wb") as err:
            p = PROCS.add(subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True,
                                           env=clean_env()))
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
                    "server_cpu_s": server_cpu, "oha_cpu_s": ru.ru_utime + ru.ru_stime,
                    # CPU the rest of the machine used meanwhile: other users' work skews a run.
                    "other_core": max(0.0, busy - server_cpu - ru.ru_utime - ru.ru_stime) / wall})
        if res.get("responses"):
            res["server_cpu_ms_per_req"] = server_cpu * 1000.0 / res["responses"]
        if p.returncode != 0 or "parse_error" in res:
            res["stderr"] = body_path.with_suffix(".err").read_text(errors="replace")[-1000:]
        if res.get("non200_share"):
            # What the server logged while answering non-200s: moto's tracebacks, spotlab's warnings.
            with open(server.stderr_path, "rb") as f:
                f.seek(log_mark)
                segment = f.read(4_000_000).decode(errors="replace")
            res["server_log"] = log_summary(segment)
        return res

    def wait_idle(self, limit_s: float = 30.0) -> dict:
        """Waits (at most `limit_s`) until the machine, with both servers idle, uses under
        OTHER_LIMIT cores over a second: the load runs one at a time on an idle machine."""
        t0 = time.monotonic()
        while True:
            b0 = machine_cpu()[0]
            time.sleep(1.0)
            cores = (machine_cpu()[0] - b0) / CLK_TCK
            waited = time.monotonic() - t0
            if cores < OTHER_LIMIT or waited >= limit_s:
                if cores >= OTHER_LIMIT:
                    log(f"  machine still busy ({cores:.2f} cores) after {waited:.0f} s: going on")
                return {"cores": cores, "waited_s": waited}

    def replay_call(self, server: Server, call: str, fx: dict) -> dict:
        entry: dict = {"body_bytes": len(fx["body"]), "idle": self.wait_idle()}
        before = self.raw_send(server, fx["body"], fx["headers"], times=2)
        entry["verify_before"] = before
        problem = self.expect(call, before[0])
        if call.startswith("CreateFleet"):
            original = fx["sdk_answer"].get("FleetId")
            entry["token"] = {"sdk_fleet": original, "replayed_fleets": [a.get("fleet_id") for a in before],
                              "same": all(a.get("fleet_id") == original for a in before)}
        if problem:
            entry["problem"] = problem
            log(f"  ! {server.name} {call}: {problem}")
        entry["c8"] = self.oha_run(server, call, fx, self.connections, self.replay_s)
        entry["c1"] = self.oha_run(server, call, fx, 1, self.latency_s)
        after = self.raw_send(server, fx["body"], fx["headers"])[0]
        entry["verify_after"] = after
        if self.expect(call, after) and not problem:
            entry["problem"] = "after the load: " + self.expect(call, after)
            log(f"  ! {server.name} {call}: {entry['problem']}")
        c8, c1 = entry["c8"], entry["c1"]
        log(f"  {server.name:7s} {call:25s} c{self.connections}: {fmt(c8.get('ok_rps'))} ok req/s "
            f"(non-200 {fmt(c8.get('non200_share', 0) * 100, 1)}%), p50 {fmt(c8.get('p50_ms'))} ms, "
            f"p99 {fmt(c8.get('p99_ms'))} ms; c1: p50 {fmt(c1.get('p50_ms'))} ms, p99 {fmt(c1.get('p99_ms'))} ms")
        return entry

    def sdk_view(self, server: Server, call: str, fx: dict) -> dict:
        """The same call through boto3, N times one after another from one client."""
        if call.startswith("CreateFleet"):
            n = self.sdk_n["create"]
        elif call == "DescribeInstances-1000":
            n = self.sdk_n["DescribeInstances-1000"]
        else:
            n = self.sdk_n["small"]
        c = ec2_client(server.url)
        method = getattr(c, fx["method"])
        method(**fx["kwargs"])  # warm the client (endpoint, parser caches)
        times, errors = [], {}
        t0 = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            try:
                method(**fx["kwargs"])
                times.append((time.perf_counter() - t) * 1000.0)
            except botocore.exceptions.ClientError as e:
                code = e.response.get("Error", {}).get("Code", "?")
                errors[code] = errors.get(code, 0) + 1
        total = time.perf_counter() - t0
        return {"n": n, "ok": len(times), "errors": errors, "total_s": total,
                "calls_per_s": len(times) / total if total else None,
                "p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "max_ms": max(times) if times else None}

    def fresh_tokens(self, server: Server, call: str, fx: dict, rnd: int) -> dict:
        """CreateFleet with a new ClientToken on every call, one call at a time on one
        keep-alive connection: what creating a fleet costs, on both servers."""
        n = self.fresh_n[call]
        pattern = re.compile(rb"ClientToken=([^&]*)")
        if not pattern.search(fx["body"]):
            return {"problem": "no ClientToken in the body"}
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        times, status, fleets, problems = [], {}, set(), []
        t0 = time.perf_counter()
        try:
            for i in range(n):
                body = pattern.sub(lambda m: b"ClientToken=" + m.group(1) + f"-new-r{rnd}-{i}".encode(),
                                   fx["body"], count=1)
                t = time.perf_counter()
                conn.request("POST", "/", body=body, headers=fx["headers"])
                resp = conn.getresponse()
                data = resp.read()
                took = time.perf_counter() - t
                answer = self.check_answer(resp.status, data, took)
                status[str(resp.status)] = status.get(str(resp.status), 0) + 1
                problem = self.expect(call, answer)
                if problem:
                    problems.append(problem)
                else:
                    times.append(took * 1000.0)
                    fleets.add(answer.get("fleet_id"))
        finally:
            conn.close()
        total = time.perf_counter() - t0
        res = {"n": n, "ok": len(times), "status": status, "distinct_fleets": len(fleets),
               "total_s": total, "calls_per_s": len(times) / total if total else None,
               "p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "max_ms": max(times) if times else None,
               "problems": sorted(set(problems))[:5]}
        log(f"  {server.name:7s} {call:25s} new token each call: {fmt(res['calls_per_s'])} calls/s, "
            f"p50 {fmt(res['p50_ms'])} ms, p99 {fmt(res['p99_ms'])} ms, {len(fleets)} distinct fleets"
            + (f"; problems {res['problems']}" if problems else ""))
        return res

    def count_fleets(self, server: Server) -> int | None:
        try:
            c = ec2_client(server.url)
            n, token = 0, None
            while True:
                kw = {"MaxResults": 1000} if server.name == "spotlab" else {}
                if token:
                    kw["NextToken"] = token
                page = c.describe_fleets(**kw)
                n += len(page["Fleets"])
                token = page.get("NextToken")
                if not token:
                    return n
        except Exception as e:  # a count for the report only
            log(f"  cannot count {server.name}'s fleets: {e!r}")
            return None

    def types_for_300(self, spotlab_c, moto_c) -> list[str]:
        """150 instance types offered in us-east-1a and us-east-1b by both servers (sorted,
        the first 150): 300 distinct pools with the two subnets."""
        both = self.offerings(spotlab_c) & self.offerings(moto_c)
        in_a = {t for t, z in both if z == "us-east-1a"}
        in_b = {t for t, z in both if z == "us-east-1b"}
        types = sorted(in_a & in_b)[:150]
        if len(types) < 150:
            raise RuntimeError(f"only {len(types)} types offered in both zones by both servers")
        return types

    def section_replay(self):
        for rnd in range(self.rounds):
            order = list(SERVERS) if rnd % 2 == 0 else list(reversed(SERVERS))
            log(f"replay round {rnd + 1}/{self.rounds} (order: {', '.join(order)})")
            servers: dict[str, Server] = {}
            record: dict = {"round": rnd + 1, "order": order, "calls": {}, "sdk": {}, "fixtures": {}}
            self.raw["rounds"].append(record)
            try:
                servers["spotlab"] = self.start_spotlab(time_scale=60, label="replay")
                servers["moto"] = self.start_moto()
                types300 = self.types_for_300(ec2_client(servers["spotlab"].url), ec2_client(servers["moto"].url))
                self.raw["types_300"] = types300
                fx = {}
                for name in SERVERS:
                    fx[name] = self.fixtures(servers[name], types300)
                    record["fixtures"][name] = {
                        "ids": fx[name]["ids"], "fixture_s": fx[name]["fixture_s"],
                        "bodies": {call: {"bytes": len(f["body"]),
                                          "head": f["body"][:160].decode(errors="replace"),
                                          "sdk_first_ms": f["sdk_first_s"] * 1000.0,
                                          "sdk_answer": summarize_answer(f["sdk_answer"])}
                                   for call, f in fx[name]["calls"].items()}}
                if rnd == 0:
                    for name in SERVERS:
                        for call, f in fx[name]["calls"].items():
                            p = self.tmp / f"body-{name}-{call}.txt"
                            p.write_bytes(f["body"])
                    self.raw["bodies"] = {call: fx["spotlab"]["calls"][call]["body"].decode(errors="replace")
                                          for call in CALLS if call in fx["spotlab"]["calls"]}
                for call in CALLS:
                    for name in order:
                        if call not in fx[name]["calls"]:
                            continue
                        record["calls"].setdefault(call, {})[name] = self.replay_call(servers[name], call,
                                                                                      fx[name]["calls"][call])
                        if not self.args.no_sdk:
                            sdk = self.sdk_view(servers[name], call, fx[name]["calls"][call])
                            record["sdk"].setdefault(call, {})[name] = sdk
                            log(f"  {name:7s} {call:25s} boto3: {fmt(sdk['calls_per_s'])} calls/s, "
                                f"p50 {fmt(sdk['p50_ms'])} ms, p99 {fmt(sdk['p99_ms'])} ms"
                                + (f", errors {sdk['errors']}" if sdk["errors"] else ""))
                        if call in self.fresh_n:
                            record.setdefault("fresh", {}).setdefault(call, {})[name] = self.fresh_tokens(
                                servers[name], call, fx[name]["calls"][call], rnd + 1)
                record["fleets_at_end"] = {name: self.count_fleets(servers[name]) for name in SERVERS}
            finally:
                for name in list(servers):
                    how = servers[name].stop()
                    record.setdefault("stopped", {})[name] = how
                    if name == "spotlab" and not how.startswith("exited"):
                        self.defect_shutdown(how, "after the replay round (a 1,000-instance fleet of a "
                                                  "launch template without user data)")

    def defect_shutdown(self, how: str, when: str):
        text = (f"`spotlab up` did not exit within 15 s of SIGTERM {when}: {how}. It prints "
                "`spotlab up: stopping (instance processes get SIGTERM, then SIGKILL)` and then "
                "idles (0% CPU) until killed. To reproduce: `spotlab up --state-dir $(mktemp -d) "
                "--listen 127.0.0.1:4747`; create a launch template without UserData and a fleet of "
                "one t2.small from it (any type; `instant` or `maintain`); `kill -TERM` the process: "
                "it is still there a minute later. With no fleet it exits in 0.1 s, and with instances "
                "that run user data (the capacity and launch sections) it exits cleanly.")
        if text not in self.defects:
            self.defects.append(text)

    # ------------------------------------------------------------------ capacity
    def agent_pids(self, mark: str) -> list[int]:
        return [p for p in marked_pids(mark) if "agent" in cmdline(p)[1:2]]

    def exited_user_data(self, server: Server) -> dict[str, str]:
        """Instances whose user data (the agent) has exited: id -> the console's last line
        before the exit note."""
        out = {}
        for console in (server.state_dir / "instances").glob("*/console.log"):
            try:
                lines = [l for l in console.read_text(errors="replace").splitlines() if l.strip()]
            except OSError:
                continue
            if any(l.startswith("[spotlab] user data exited") for l in lines):
                before = [l for l in lines if not l.startswith("[spotlab]")]
                out[console.parent.name] = (before[-1] if before else lines[-1])[:400]
        return out

    def wait_instances(self, client, server: Server, n: int, timeout: float) -> dict:
        """Waits until `n` instances run and `n` agents are up, or until every instance runs
        and the agents that are missing have exited (their user data ended), or `timeout`."""
        t0 = time.monotonic()
        running = agents = 0
        while time.monotonic() - t0 < timeout:
            running = self.count_running(client)
            agents = len(self.agent_pids(server.mark))
            if running >= n and agents >= n:
                return {"reached": True, "ramp_s": time.monotonic() - t0, "running": running, "agents": agents}
            if running >= n:
                exited = self.exited_user_data(server)
                if agents + len(exited) >= n:
                    return {"reached": True, "ramp_s": time.monotonic() - t0, "running": running,
                            "agents": agents, "agents_exited": len(exited), "exit_reasons": exited}
            time.sleep(0.5)
        return {"reached": False, "ramp_s": time.monotonic() - t0, "running": running, "agents": agents}

    def target_requests(self, port: int) -> int | None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            conn.close()
        except OSError:
            return None
        total = 0
        for line in text.splitlines():
            if line.startswith("spotlab_target_requests_total{"):
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def section_capacity(self):
        res: dict = {"steps": [], "window_s": self.window_s, "steps_planned": self.steps}
        self.raw["capacity"] = res
        server = self.start_spotlab(time_scale=1, label="capacity")
        tport = free_port()
        tcmd = [self.spotlab, "target", "--listen", f"127.0.0.1:{tport}", "--rate", "100000",
                "--burst", "100000"]
        self.commands["spotlab target (capacity)"] = " ".join(tcmd).replace(str(tport), "TPORT")
        target = Server("target", tcmd, tport, self.tmp)
        agent = f"{self.spotlab} agent --url http://127.0.0.1:{tport}/ --callers 1 --rate 1 --report /dev/null"
        res["user_data"] = f"#!/bin/sh\nexec {agent}\n"
        self.commands["instance user data (capacity)"] = res["user_data"].replace(str(tport), "TPORT")
        fleet_id = None
        try:
            c = ec2_client(server.url)
            lt = c.create_launch_template(LaunchTemplateName="ec2-bench-agents", LaunchTemplateData={
                "ImageId": AMI, "InstanceType": "t2.small",
                "UserData": base64.b64encode(res["user_data"].encode()).decode()})["LaunchTemplate"]["LaunchTemplateId"]
            limit = "cap"
            for n in self.steps:
                spec = {"TotalTargetCapacity": n, "SpotTargetCapacity": n, "DefaultTargetCapacityType": "spot"}
                t0 = time.monotonic()
                if fleet_id is None:
                    fleet_id = c.create_fleet(
                        Type="maintain", TargetCapacitySpecification=spec,
                        SpotOptions={"AllocationStrategy": "diversified"},
                        LaunchTemplateConfigs=[{"LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "1"},
                                                "Overrides": [{"InstanceType": "t2.small", "AvailabilityZone": z}
                                                              for z in ("us-east-1a", "us-east-1b")]}])["FleetId"]
                else:
                    c.modify_fleet(FleetId=fleet_id, TargetCapacitySpecification={"TotalTargetCapacity": n})
                step = {"target": n, **self.wait_instances(c, server, n, timeout=60 + n * 0.05)}
                res["steps"].append(step)
                if not step["reached"]:
                    log(f"  capacity {n}: only {step['running']} running / {step['agents']} agents after "
                        f"{step['ramp_s']:.0f} s")
                    limit = "fleet did not reach target"
                    break
                if step.get("agents_exited"):
                    reasons: dict[str, int] = {}
                    for line in step["exit_reasons"].values():
                        key = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
                        reasons[key] = reasons.get(key, 0) + 1
                    step["exit_reason_counts"] = reasons
                    log(f"  capacity {n}: {step['agents_exited']} agent(s) exited: {reasons}")
                # New agents' start-up (metadata, connections) is not what a step measures.
                step["settle_s"] = 3 + n / 200
                time.sleep(step["settle_s"])
                step.update(self.measure_window(server, target, tport))
                log(f"  capacity {n}: control plane {step['cp_core'] * 100:.1f}% of a core, target "
                    f"{step['target_core'] * 100:.1f}%, agents {step['agents_core'] * 100:.0f}%, machine "
                    f"{step['machine_busy'] * 100:.0f}% of {os.cpu_count()} cores, "
                    f"{fmt(step.get('target_rps'))} req/s at the target, load {step['load1']:.1f}, "
                    f"ramp {step['ramp_s']:.1f} s")
                if step["cp_core"] >= CPU_GOAL:
                    limit = "control plane over 10% of a core"
                    break
                # The run's own processes, so that a compiler elsewhere on the machine does not
                # end the ramp; the machine's total is reported beside it.
                ours = step["cp_core"] + step["target_core"] + step["agents_core"]
                step["ours_share"] = ours / (os.cpu_count() or 1)
                if step["ours_share"] >= 0.85:
                    limit = "the run's own processes use 85% of all cores"
                    break
                if (step.get("mem_available_gib") or 99) < 2.0:
                    limit = "memory (under 2 GiB available)"
                    break
                if step.get("agents_exited"):
                    limit = f"{step['agents_exited']} agent(s) exited at start"
                    break
            res["limit"] = limit
        finally:
            if fleet_id is not None:
                try:
                    ec2_client(server.url).delete_fleets(FleetIds=[fleet_id], TerminateInstances=True)
                    t0 = time.monotonic()
                    while self.agent_pids(server.mark) and time.monotonic() - t0 < 30:
                        time.sleep(0.5)
                    res["agents_left_after_delete"] = len(self.agent_pids(server.mark))
                    res["terminate_s"] = time.monotonic() - t0
                except Exception as e:
                    log(f"  DeleteFleets failed: {e!r}")
            res["stopped"] = server.stop()
            target.stop()
            if not res["stopped"].startswith("exited"):
                self.defect_shutdown(res["stopped"], "after the capacity run")

    def measure_window(self, server: Server, target: Server, tport: int) -> dict:
        agents0 = {p: self.safe_cpu(p) for p in self.agent_pids(server.mark)}
        cp0, tg0 = server.cpu(), target.cpu()
        m0 = machine_cpu()
        rq0 = self.target_requests(tport)
        t0 = time.monotonic()
        time.sleep(self.window_s)
        wall = time.monotonic() - t0
        cp1, tg1 = server.cpu(), target.cpu()
        m1 = machine_cpu()
        rq1 = self.target_requests(tport)
        agents_cpu = 0.0
        for p, c0 in agents0.items():
            c1 = self.safe_cpu(p)
            if c0 is not None and c1 is not None:
                agents_cpu += c1 - c0
        busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
        out = {"window_wall_s": wall, "cp_core": (cp1 - cp0) / wall, "target_core": (tg1 - tg0) / wall,
               "agents_core": agents_cpu / wall, "agents_measured": len(agents0),
               "machine_busy": busy, "load1": loadavg()[0], "mem_available_gib": mem_available_gib(),
               "cp_rss_mib": rss_mib(server.proc.pid)}
        if rq0 is not None and rq1 is not None:
            out["target_rps"] = (rq1 - rq0) / wall
        return out

    @staticmethod
    def safe_cpu(pid: int):
        try:
            return proc_cpu(pid)
        except OSError:
            return None

    # ------------------------------------------------------------------ launch
    def section_launch(self):
        res: dict = {"fleets": []}
        self.raw["launch"] = res
        server = self.start_spotlab(time_scale=1, extra=["--boot-delay", "5s"], label="launch")
        res["boot_delay"] = "5s (virtual, the default), time scale 1"
        try:
            c = ec2_client(server.url)
            for n in self.launch_sizes:
                stamp = self.tmp / f"userdata-{n}.log"
                stamp.touch()
                os.chmod(stamp, 0o666)
                user_data = f"#!/bin/sh\ndate +%s.%N >> {stamp}\n"
                self.commands["instance user data (launch)"] = user_data.replace(str(stamp), "$TMP/userdata-N.log")
                lt = c.create_launch_template(LaunchTemplateName=f"ec2-bench-launch-{n}", LaunchTemplateData={
                    "ImageId": AMI, "InstanceType": "t2.small",
                    "UserData": base64.b64encode(user_data.encode()).decode()})["LaunchTemplate"]["LaunchTemplateId"]
                spec = {"TotalTargetCapacity": n, "SpotTargetCapacity": n, "DefaultTargetCapacityType": "spot"}
                t_sent = time.time()
                fleet_id = c.create_fleet(
                    Type="maintain", TargetCapacitySpecification=spec,
                    SpotOptions={"AllocationStrategy": "diversified"},
                    LaunchTemplateConfigs=[{"LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "1"},
                                            "Overrides": [{"InstanceType": "t2.small", "AvailabilityZone": z}
                                                          for z in ("us-east-1a", "us-east-1b")]}])["FleetId"]
                t_ret = time.time()
                t_running = None
                polls = 0
                states: dict = {}
                deadline = t_ret + 120
                while time.time() < deadline:
                    polls += 1
                    ids = [i["InstanceId"] for i in c.describe_fleet_instances(FleetId=fleet_id)["ActiveInstances"]]
                    if len(ids) >= n:
                        states = {}
                        for page in paginate_ids(c, ids):
                            for r in page["Reservations"]:
                                for i in r["Instances"]:
                                    states[i["State"]["Name"]] = states.get(i["State"]["Name"], 0) + 1
                        if states.get("running", 0) >= n:
                            t_running = time.time()
                            break
                    time.sleep(0.02)
                t_ud_deadline = time.time() + 30
                stamps: list[float] = []
                while time.time() < t_ud_deadline:
                    stamps = [float(x) for x in stamp.read_text().split()]
                    if len(stamps) >= n:
                        break
                    time.sleep(0.05)
                entry = {"size": n, "create_call_s": t_ret - t_sent,
                         "to_all_running_s": (t_running - t_ret) if t_running else None,
                         "polls": polls, "states_last_seen": states,
                         "user_data_started": len(stamps),
                         "to_first_user_data_s": (min(stamps) - t_ret) if stamps else None,
                         "to_last_user_data_s": (max(stamps) - t_ret) if stamps else None,
                         "user_data_p50_s": (pct([s - t_ret for s in stamps], 50)) if stamps else None}
                res["fleets"].append(entry)
                log(f"  launch {n}: CreateFleet {entry['create_call_s'] * 1000:.0f} ms; all running after "
                    f"{fmt(entry['to_all_running_s'])} s; user data first {fmt(entry['to_first_user_data_s'])} s, "
                    f"last {fmt(entry['to_last_user_data_s'])} s ({len(stamps)}/{n})")
                c.delete_fleets(FleetIds=[fleet_id], TerminateInstances=True)
        finally:
            res["stopped"] = server.stop()
            if not res["stopped"].startswith("exited"):
                self.defect_shutdown(res["stopped"], "after the launch-time run")

    # ------------------------------------------------------------------ driver
    def run(self):
        self.sections = self.args.only or list(SECTIONS)
        self.preflight()
        self.raw["facts"] = self.facts()
        self.raw["command"] = self.args.command_line
        self.raw["settings"] = {
            "quick": self.quick, "rounds": self.rounds, "replay_s": self.replay_s,
            "latency_s": self.latency_s, "connections": self.connections, "sdk_n": self.sdk_n,
            "fleet_size": self.fleet_size, "capacity_steps": self.steps, "window_s": self.window_s,
            "launch_sizes": self.launch_sizes, "sections": self.sections,
            "oha_threads": self.args.oha_threads or "oha's default (physical cores)",
        }
        t0 = time.monotonic()
        for sec in SECTIONS:
            if sec not in self.sections:
                self.raw["skipped"].append(sec)
                continue
            log(f"section {sec}")
            try:
                getattr(self, f"section_{sec}")()
            except Exception as e:  # keep going: report what was measured
                log(f"section {sec} failed: {e!r}")
                self.notes.append(f"Section `{sec}` failed: {e}")
                self.raw.setdefault("failed", {})[sec] = repr(e)
        self.raw["elapsed_s"] = time.monotonic() - t0
        self.raw["commands"] = self.commands
        return self.raw


def log_summary(text: str) -> dict:
    """The exceptions at the end of each Python traceback in `text`, counted, or else the
    last lines that are not request log lines."""
    found: dict[str, int] = {}
    in_tb = False
    for line in text.splitlines():
        if line.startswith("Traceback"):
            in_tb = True
            continue
        if in_tb and line and not line[0].isspace():
            found[line[:300]] = found.get(line[:300], 0) + 1
            in_tb = False
    if found:
        return {"exceptions": found}
    lines = [l for l in text.splitlines() if l.strip() and '" 200 ' not in l]
    return {"tail": lines[-10:]}


def paginate_ids(client, ids: list[str]):
    for i in range(0, len(ids), 500):
        yield client.describe_instances(InstanceIds=ids[i:i + 500])


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def summarize_answer(answer: dict) -> dict:
    """What boto3 parsed from the fixture call, in a few numbers."""
    out = {}
    if "FleetId" in answer:
        out["FleetId"] = answer["FleetId"]
        out["errors"] = [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in answer.get("Errors", [])][:3]
        out["instances"] = sum(len(i.get("InstanceIds", [])) for i in answer.get("Instances", []))
    if "Fleets" in answer:
        out["fleets"] = len(answer["Fleets"])
        if answer["Fleets"]:
            f = answer["Fleets"][0]
            out["fulfilled"] = f.get("FulfilledCapacity")
            out["state"] = f.get("FleetState")
    if "ActiveInstances" in answer:
        out["active_instances"] = len(answer["ActiveInstances"])
    if "SpotPriceHistory" in answer:
        out["prices"] = [(p.get("AvailabilityZone"), p.get("SpotPrice"), str(p.get("Timestamp")))
                         for p in answer["SpotPriceHistory"][:8]]
        out["price_count"] = len(answer["SpotPriceHistory"])
    if "Reservations" in answer:
        out["reservations"] = len(answer["Reservations"])
        out["instances"] = sum(len(r["Instances"]) for r in answer["Reservations"])
        out["next_token"] = bool(answer.get("NextToken"))
    return out


def parse_oha(text: str) -> dict:
    try:
        data = json.loads(text[text.index("{"):])
    except (ValueError, json.JSONDecodeError):
        return {"parse_error": text[-500:]}
    summary = data.get("summary", {})
    lat = data.get("latencyPercentiles", {})
    status = {str(k): int(v) for k, v in (data.get("statusCodeDistribution") or {}).items()}
    errors = {str(k): int(v) for k, v in (data.get("errorDistribution") or {}).items()}
    responses = sum(status.values())
    attempts = responses + sum(errors.values())
    ok = status.get("200", 0)
    rps = summary.get("requestsPerSec")
    out = {
        "rps_all": rps, "responses": responses, "ok": ok, "status": status, "errors": errors,
        "total_s": summary.get("total"), "size_per_request": summary.get("sizePerRequest"),
        "non200_share": (attempts - ok) / attempts if attempts else None,
        # oha's requestsPerSec counts every answered request; throughput here is 200s only.
        "ok_rps": rps * ok / responses if rps and responses else 0.0,
    }
    for k in ("p50", "p90", "p99", "p99.9"):
        if lat.get(k) is not None:
            out[f"{k}_ms"] = lat[k] * 1000.0
    return out


# --------------------------------------------------------------------------- report

def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "**FAIL**")


def is_clean(run: dict | None) -> bool:
    """A run during which the rest of the machine stayed (nearly) idle."""
    return bool(run) and (run.get("other_core") or 0.0) <= OTHER_LIMIT


def per_round(raw, call, server, key, sub="c8", clean_first=True):
    """`key` of every round's `sub` run of (call, server); only the clean runs when there
    is at least one (other users' work on the machine skews a run; every run is listed
    in the per-round details)."""
    runs = []
    for rnd in raw.get("rounds", []):
        e = rnd.get("calls", {}).get(call, {}).get(server)
        runs.append(e.get(sub) if e else None)
    runs = [r for r in runs if r]
    if clean_first and any(is_clean(r) for r in runs):
        runs = [r for r in runs if is_clean(r)]
    return [r.get(key) for r in runs]


def aggregate(raw) -> dict:
    """Per call and server: medians over rounds (throughput, p50) and the worst round
    (p99), from clean runs when there are any; the ratio per round from rounds where both
    servers' runs were clean, when there are any."""
    agg = {}
    for call in CALLS:
        a = {}
        for s in SERVERS:
            a[s] = {
                "ok_rps": median(per_round(raw, call, s, "ok_rps")),
                "non200": worst(per_round(raw, call, s, "non200_share", clean_first=False)),
                "p50": median(per_round(raw, call, s, "p50_ms")),
                "p99": worst(per_round(raw, call, s, "p99_ms")),
                "c1_p50": median(per_round(raw, call, s, "p50_ms", "c1")),
                "c1_p99": worst(per_round(raw, call, s, "p99_ms", "c1")),
                "c1_rps": median(per_round(raw, call, s, "ok_rps", "c1")),
                "cpu_ms": median(per_round(raw, call, s, "server_cpu_ms_per_req")),
                "responses": sum(v or 0 for v in per_round(raw, call, s, "responses", clean_first=False)),
                "clean_c8": sum(is_clean(x) for x in (
                    (rnd.get("calls", {}).get(call, {}).get(s) or {}).get("c8") for rnd in raw.get("rounds", []))),
                "clean_c1": sum(is_clean(x) for x in (
                    (rnd.get("calls", {}).get(call, {}).get(s) or {}).get("c1") for rnd in raw.get("rounds", []))),
            }
        pairs = []
        for rnd in raw.get("rounds", []):
            e = rnd.get("calls", {}).get(call, {})
            sp, mo = e.get("spotlab", {}).get("c8"), e.get("moto", {}).get("c8")
            if not sp or not mo:
                continue
            r = sp["ok_rps"] / mo["ok_rps"] if sp.get("ok_rps") and mo.get("ok_rps") else (
                float("inf") if sp.get("ok_rps") else None)
            if r is not None:
                pairs.append((r, is_clean(sp) and is_clean(mo)))
        a["ratios"] = [r for r, _ in pairs]
        a["ratios_clean"] = [c for _, c in pairs]
        used = [r for r, c in pairs if c] or [r for r, _ in pairs]
        a["ratio"] = median(used)
        a["measured"] = any(call in rnd.get("calls", {}) for rnd in raw.get("rounds", []))
        agg[call] = a
    return agg


def aggregate_fresh(raw) -> dict:
    """CreateFleet with a new token per call: per call and server, median calls/s over
    rounds, worst p99, every problem."""
    out = {}
    for call in ("CreateFleet-6", "CreateFleet-300"):
        per = {}
        for s in SERVERS:
            rs = [rnd.get("fresh", {}).get(call, {}).get(s) for rnd in raw.get("rounds", [])]
            rs = [x for x in rs if x and "n" in x]
            if rs:
                per[s] = {"cps": median([x["calls_per_s"] for x in rs]), "p50": median([x["p50_ms"] for x in rs]),
                          "p99": worst([x["p99_ms"] for x in rs]), "n": sum(x["n"] for x in rs),
                          "ok": sum(x["ok"] for x in rs), "distinct": sum(x["distinct_fleets"] for x in rs),
                          "problems": sorted({p for x in rs for p in x.get("problems", [])})}
        if len(per) == 2:
            s_, m_ = per["spotlab"]["cps"], per["moto"]["cps"]
            per["ratio"] = s_ / m_ if s_ and m_ else None
            out[call] = per
    return out


def write_report(raw: dict, md_path: Path) -> None:
    f = raw["facts"]
    st = raw["settings"]
    notes = list(raw.get("notes", []))
    defects = list(raw.get("defects", []))
    agg = aggregate(raw)
    fresh = aggregate_fresh(raw)
    busy_runs = []
    for rnd in raw.get("rounds", []):
        for call in CALLS:
            for sname in SERVERS:
                for sub in ("c8", "c1"):
                    x = (rnd.get("calls", {}).get(call, {}).get(sname) or {}).get(sub) or {}
                    if (x.get("other_core") or 0) > 0.25:
                        busy_runs.append(f"round {rnd['round']} {call} {sname} -{sub} ({x['other_core']:.2f})")
    if busy_runs:
        notes.append("Other processes on the machine used more than a quarter of a core during "
                     f"{len(busy_runs)} oha run(s) (cores used by others): {', '.join(busy_runs)}. Those "
                     "runs' figures understate the server.")
    for rnd in raw.get("rounds", []):
        for call in CALLS:
            for sname in SERVERS:
                e = rnd.get("calls", {}).get(call, {}).get(sname) or {}
                if e.get("problem"):
                    text = (f"Round {rnd['round']}, {call}: {sname}'s answer to the replayed body was wrong: "
                            f"{e['problem']}.")
                    (defects if sname == "spotlab" else notes).append(text)
                for sub in ("c8", "c1"):
                    x = e.get(sub) or {}
                    if x.get("non200_share"):
                        sl = x.get("server_log") or {}
                        logged = ", ".join(f"`{k}` x{v}" for k, v in sl.get("exceptions", {}).items()) or \
                            "; ".join(f"`{t}`" for t in sl.get("tail", [])) or "nothing"
                        text = (f"Round {rnd['round']}, {call}, {sname} `-{sub}`: {x['non200_share'] * 100:.1f}% of "
                                f"answers were not HTTP 200 (status {x.get('status')}, errors {x.get('errors') or 'none'}); "
                                f"they are not counted as throughput. The server logged: {logged}.")
                        (defects if sname == "spotlab" else notes).append(text)
    L: list[str] = []
    w = L.append
    w("# EC2 control plane: `spotlab up` against moto")
    w("")
    w(f"Recorded {f['date_utc']} on {f['nproc']} cores ({f['cpu_model']}), git {f['git']}. "
      f"Command: `{raw['command']}`" + (" (**quick development run**: short runs, one round, small steps)"
                                        if st["quick"] else "") + f"; took {raw.get('elapsed_s', 0) / 60:.1f} min.")
    w("")
    w("The peer is moto's server mode (`moto[server]`), the EC2 emulator most people test against. "
      "Each call's exact request body, as boto3 sends it, was captured from botocore's "
      "`before-send` event against each server's own fixtures and replayed with oha over "
      "keep-alive connections; both servers ran in the same run, one at a time, order "
      "alternating by round. Throughput counts HTTP 200 answers only.")
    w("")

    # ---- ratios first
    w("## Goals")
    w("")
    w("| goal | measured | verdict |")
    w("|---|---|---|")
    for call in CALLS:
        a = agg[call]
        if not a["measured"]:
            w(f"| {call}: spotlab ≥ {RATIO_GOAL:.0f}x moto's throughput | not run | n/a |")
            continue
        r = a["ratio"]
        rs = ", ".join(("∞" if x == float("inf") else f"{x:.1f}") + ("" if c else "*")
                       for x, c in zip(a["ratios"], a["ratios_clean"]))
        extra = ""
        if a["moto"]["ok_rps"] == 0:
            extra = " (moto answered no 200s)"
        w(f"| {call}: spotlab ÷ moto throughput ≥ {RATIO_GOAL:.0f}x (c{st['connections']}) | "
          f"**{'∞' if r == float('inf') else fmt(r, 1)}x** (rounds: {rs}){extra} | {verdict(r is not None and r >= RATIO_GOAL)} |")
    for call, per in fresh.items():
        r = per["ratio"]
        w(f"| {call} with a new ClientToken on every call (a new fleet each time; 1 connection, one call "
          f"at a time): spotlab ÷ moto ≥ {RATIO_GOAL:.0f}x | **{fmt(r, 1)}x** ({fmt(per['spotlab']['cps'])} vs "
          f"{fmt(per['moto']['cps'])} calls/s) | {verdict(r is not None and r >= RATIO_GOAL)} |")
    for call in SMALL:
        a = agg[call]["spotlab"]
        if a["c1_p99"] is None:
            continue
        w(f"| {call}: spotlab p99 < {P99_GOAL_MS:.0f} ms at the server (1 connection, back to back) | "
          f"{fmt(a['c1_p99'])} ms (p50 {fmt(a['c1_p50'])} ms) | {verdict(a['c1_p99'] < P99_GOAL_MS)} |")
    for call in SMALL:
        a = agg[call]["spotlab"]
        if a["p99"] is None:
            continue
        w(f"| {call}: spotlab p99 < {P99_GOAL_MS:.0f} ms under {st['connections']} connections at saturation "
          f"(includes queueing behind the other {st['connections'] - 1}) | {fmt(a['p99'])} ms | "
          f"{verdict(a['p99'] < P99_GOAL_MS)} |")
    cap = raw.get("capacity")
    for stp in (cap or {}).get("steps", []):
        if stp.get("agents_exited"):
            reasons = "; ".join(f"`{k}` ({v})" for k, v in stp.get("exit_reason_counts", {}).items())
            defects.append(
                f"Capacity step {stp['target']:,}: {stp['agents_exited']} of the instances launched in that step "
                f"were `running` but their agent exited with status 1 at start, so the step measured "
                f"{stp['agents']:,} agents. Their consoles say: {reasons}. The agent exits when its first "
                f"metadata request fails (1 s timeout) instead of retrying, and the control plane's metadata "
                f"services were slow to answer while the step's instances booted together. To reproduce: "
                f"`bench/ec2/bench.py --only capacity --steps 1200 1600` (a maintain fleet of t2.small "
                f"whose user data runs `spotlab agent --callers 1 --rate 1`, raised by 400 at once on 2 cores), "
                f"then `grep -l 'user data exited' STATE/instances/*/console.log`.")
    if cap and cap.get("steps"):
        under = [s for s in cap["steps"] if s.get("cp_core") is not None and s["cp_core"] < CPU_GOAL]
        over = [s for s in cap["steps"] if s.get("cp_core") is not None and s["cp_core"] >= CPU_GOAL]
        best = max(under, key=lambda s: s["target"]) if under else None
        agents_note = ""
        if best and best.get("agents_exited"):
            agents_note = f", {best['agents']:,} of them with a live agent"
        w(f"| concurrent local instances (each running `spotlab agent`) with the control plane under "
          f"10% of a core | {fmt(best['target']) if best else 'none'}{agents_note} "
          f"({fmt(best['cp_core'] * 100, 1) if best else 'n/a'}% of a core); "
          + (f"crosses at {over[0]['target']:,} ({over[0]['cp_core'] * 100:.1f}%)" if over else
             f"not crossed; stopped by: {cap.get('limit')}") + " | report |")
    lau = raw.get("launch")
    if lau and lau.get("fleets"):
        parts = [f"{e['size']}: running {fmt(e['to_all_running_s'])} s, user data {fmt(e['to_first_user_data_s'])}"
                 f"–{fmt(e['to_last_user_data_s'])} s" for e in lau["fleets"]]
        w(f"| launch to running (boot delay {lau['boot_delay']}) | " + "; ".join(parts) + " | report |")
    w("")
    if defects:
        w("**spotlab defects seen in this run** (details under *Defects and anomalies*):")
        w("")
        for d in defects:
            w(f"- {d.split('. ')[0]}.")
        w("")

    # ---- absolute figures
    w("## Replayed calls: absolute figures")
    w("")
    w(f"oha `-c {st['connections']}` for {st['replay_s']} s (throughput; p50/p99 include queueing behind "
      f"the other connections) and `-c 1` for {st['latency_s']} s (latency of one call at a time), per "
      f"server per call per round; {st['rounds']} round(s). Throughput and p50 are medians over rounds, "
      "p99 the worst round. CPU is the server process's own user+system time per answered request "
      "during the c8 run. Other people's work on this shared machine was measured during every run "
      f"(busy CPU from /proc/stat minus the server and oha); a run during which it exceeded {OTHER_LIMIT} "
      "of a core is marked * and left out of these figures whenever a clean run of the same call and "
      "server exists (every run is in the per-round details). Ratios in the goals table marked * "
      "come from such a round and are left out of the median when a clean round exists.")
    w("")
    w("| call | body | spotlab req/s | moto req/s | ratio | spotlab p50 / p99 (c8) | moto p50 / p99 (c8) | "
      "spotlab p50 / p99 (c1) | moto p50 / p99 (c1) | non-200 spotlab / moto | CPU ms/req spotlab / moto |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    bodies = raw.get("bodies", {})
    for call in CALLS:
        a = agg[call]
        if not a["measured"]:
            continue
        s, m = a["spotlab"], a["moto"]
        r = a["ratio"]
        w(f"| {call} | {len(bodies.get(call, '')):,} B | {fmt(s['ok_rps'])} | {fmt(m['ok_rps'])} | "
          f"{'∞' if r == float('inf') else fmt(r, 1)}x | {fmt(s['p50'])} / {fmt(s['p99'])} ms | "
          f"{fmt(m['p50'])} / {fmt(m['p99'])} ms | {fmt(s['c1_p50'])} / {fmt(s['c1_p99'])} ms | "
          f"{fmt(m['c1_p50'])} / {fmt(m['c1_p99'])} ms | {fmt((s['non200'] or 0) * 100, 1)}% / "
          f"{fmt((m['non200'] or 0) * 100, 1)}% | {fmt(s['cpu_ms'], 3)} / {fmt(m['cpu_ms'], 2)} |")
    w("")
    if fresh:
        w("CreateFleet replays carry a fixed ClientToken, so on spotlab every replay after the first "
          "is an idempotency lookup (same parameters, same answer, nothing created), while moto, which "
          "ignores ClientToken, creates a new fleet and its instances on every replay. To compare "
          "like with like, the same bodies were also sent with a new ClientToken on every call, one "
          "at a time on one keep-alive connection (Python `http.client`, no SDK): every call creates a "
          "maintain fleet of 4 on both servers.")
        w("")
        w("| call, new token each call | calls | spotlab calls/s | moto calls/s | ratio | spotlab p50 / p99 ms | moto p50 / p99 ms | distinct fleets spotlab / moto |")
        w("|---|---|---|---|---|---|---|---|")
        for call, per in fresh.items():
            sp, mo = per["spotlab"], per["moto"]
            w(f"| {call} | {sp['n']:,} / {mo['n']:,} | {fmt(sp['cps'])} | {fmt(mo['cps'])} | {fmt(per['ratio'], 1)}x | "
              f"{fmt(sp['p50'])} / {fmt(sp['p99'])} | {fmt(mo['p50'])} / {fmt(mo['p99'])} | "
              f"{sp['distinct']:,} / {mo['distinct']:,} |")
            for name, x in (("spotlab", sp), ("moto", mo)):
                if x["problems"]:
                    w(f"|  | {name} problems: {'; '.join(x['problems'])} | | | | | | |")
        w("")
    # per round
    for rnd in raw.get("rounds", []):
        w(f"<details><summary>Round {rnd['round']} (order {' then '.join(rnd['order'])}): per-run numbers</summary>")
        w("")
        w("| call | server | c8 req/s (200s) | responses | status | p50 / p90 / p99 / p99.9 ms | c1 req/s | c1 p50 / p99 ms | answer bytes | server CPU s | other users' cores c8 / c1 |")
        w("|---|---|---|---|---|---|---|---|---|---|---|")
        for call in CALLS:
            for s in SERVERS:
                e = rnd.get("calls", {}).get(call, {}).get(s)
                if not e:
                    continue
                c8, c1 = e.get("c8", {}), e.get("c1", {})
                w(f"| {call} | {s} | {fmt(c8.get('ok_rps'))} | {fmt(c8.get('responses'))} | "
                  f"{c8.get('status')}{(' errors ' + str(c8.get('errors'))) if c8.get('errors') else ''} | "
                  f"{fmt(c8.get('p50_ms'))} / {fmt(c8.get('p90_ms'))} / {fmt(c8.get('p99_ms'))} / {fmt(c8.get('p99.9_ms'))} | "
                  f"{fmt(c1.get('ok_rps'))} | {fmt(c1.get('p50_ms'))} / {fmt(c1.get('p99_ms'))} | "
                  f"{fmt(e.get('verify_before', [{}])[0].get('bytes'))} | {fmt(c8.get('server_cpu_s'))} | "
                  f"{fmt(c8.get('other_core'))}{'' if is_clean(c8) else '*'} / "
                  f"{fmt(c1.get('other_core'))}{'' if is_clean(c1) else '*'} |")
        w("")
        for call in CALLS:
            for sname in SERVERS:
                e = rnd.get("calls", {}).get(call, {}).get(sname) or {}
                for sub in ("c8", "c1"):
                    sl = e.get(sub, {}).get("server_log")
                    if sl:
                        w(f"- {call}, {sname}, {sub}: non-200 answers {e[sub].get('status')}; the server logged "
                          + (", ".join(f"`{k}` x{v}" for k, v in sl.get("exceptions", {}).items())
                             or "; ".join(f"`{x}`" for x in sl.get("tail", [])) or "nothing") + ".")
        w("")
        fx = rnd.get("fixtures", {})
        if fx:
            w("Fixture times (VPC, 2 subnets, template, 1,000 instances running): " + ", ".join(
                f"{s} {fx[s]['fixture_s']:.1f} s" for s in fx) + ". Fleets at the end of the round: "
              + ", ".join(f"{s} {v}" for s, v in (rnd.get("fleets_at_end") or {}).items()) + ".")
            w("")
        w("</details>")
        w("")

    # ---- what each server answered
    w("## What each server answered")
    w("")
    first = (raw.get("rounds") or [{}])[0]
    for call in CALLS:
        e = first.get("calls", {}).get(call)
        if not e:
            continue
        parts = []
        for s in SERVERS:
            x = e.get(s)
            if not x:
                continue
            v = x.get("verify_before", [{}])[0]
            desc = f"HTTP {v.get('status')}, `<{v.get('root')}>`, {fmt(v.get('bytes'))} bytes"
            if v.get("counts"):
                desc += ", " + ", ".join(f"{k} {n}" for k, n in v["counts"].items())
            if x.get("token"):
                t = x["token"]
                desc += ("; a repeated ClientToken returns the same fleet (idempotent)" if t["same"] else
                         f"; a repeated ClientToken creates a new fleet each time ({t['sdk_fleet']} then "
                         f"{', '.join(str(i) for i in t['replayed_fleets'])})")
            if x.get("problem"):
                desc += f"; **{x['problem']}**"
            parts.append(f"{s}: {desc}")
        w(f"- **{call}**: " + "; ".join(parts) + ".")
        sdk_answers = {s: first.get("fixtures", {}).get(s, {}).get("bodies", {}).get(call, {}).get("sdk_answer")
                       for s in SERVERS}
        if call == "DescribeSpotPriceHistory":
            for s, ans in sdk_answers.items():
                if ans:
                    shown = ", ".join(f"{z} ${price} (since {ts})" for z, price, ts in ans.get("prices", []))
                    w(f"  - {s} via boto3: {ans.get('price_count')} price(s): {shown}")
            mo = sdk_answers.get("moto") or {}
            if mo.get("price_count", 1) > 1:
                w("  - moto ignores the request's `AvailabilityZone` (it answers every zone) and its prices "
                  "are a fixed placeholder, so its answer is larger but not comparable in content.")
        if call == "DescribeFleets":
            for s, ans in sdk_answers.items():
                if ans:
                    w(f"  - {s} via boto3: {ans.get('fleets')} fleet, state {ans.get('state')}, "
                      f"fulfilled capacity {ans.get('fulfilled')}")
        if call == "DescribeInstances-1000":
            for s, ans in sdk_answers.items():
                if ans:
                    w(f"  - {s} via boto3: {ans.get('instances'):,} instances in {ans.get('reservations'):,} "
                      f"reservation(s), NextToken {'present' if ans.get('next_token') else 'absent'}")
        if call.startswith("CreateFleet"):
            for s, ans in sdk_answers.items():
                if ans:
                    w(f"  - {s} via boto3 (first call): fleet {ans.get('FleetId')}, "
                      f"{ans.get('instances', 0)} instance(s) in the answer, errors {ans.get('errors') or 'none'}")
    fe = first.get("fleets_at_end")
    if fe:
        w(f"- Fleets each server held at the end of round 1 (3 created by the fixtures, plus what the "
          f"CreateFleet replays, the boto3 calls and the new-token calls added): " + ", ".join(f"{s} {v:,}" if v is not None else f"{s} n/a"
                                                                  for s, v in fe.items()) + ".")
    w("")

    # ---- SDK view
    if any(rnd.get("sdk") for rnd in raw.get("rounds", [])):
        w("## The boto3 end-to-end view")
        w("")
        w(f"The same calls through boto3 {f['versions']['boto3']}, one after another from one client "
          f"(retries off), after the replays of each call: {st['sdk_n']['small']} calls for the small "
          f"ones, {st['sdk_n']['DescribeInstances-1000']} for DescribeInstances over 1,000 instances, "
          f"{st['sdk_n']['create']} for each CreateFleet (same ClientToken). Samples pooled over rounds.")
        w("")
        w("| call | spotlab calls/s | moto calls/s | ratio | spotlab p50 / p99 ms | moto p50 / p99 ms |")
        w("|---|---|---|---|---|---|")
        for call in CALLS:
            vals = {}
            for s in SERVERS:
                rs = [rnd.get("sdk", {}).get(call, {}).get(s) for rnd in raw.get("rounds", [])]
                rs = [x for x in rs if x]
                if rs:
                    vals[s] = {"cps": median([x["calls_per_s"] for x in rs]),
                               "p50": median([x["p50_ms"] for x in rs]), "p99": worst([x["p99_ms"] for x in rs]),
                               "err": sum(sum(x["errors"].values()) for x in rs)}
            if len(vals) < 2:
                continue
            s, m = vals["spotlab"], vals["moto"]
            ratio = s["cps"] / m["cps"] if s["cps"] and m["cps"] else None
            w(f"| {call} | {fmt(s['cps'])} | {fmt(m['cps'])} | {fmt(ratio, 1)}x | {fmt(s['p50'])} / {fmt(s['p99'])} | "
              f"{fmt(m['p50'])} / {fmt(m['p99'])} |" + (f" errors: {s['err']} / {m['err']}" if s["err"] or m["err"] else ""))
        w("")
        w("boto3's own cost (signing, serialising, parsing the XML into dicts) is the same on both sides, "
          "so the ratios here are smaller than the raw replay's; for DescribeInstances over 1,000 "
          "instances, parsing the answer dominates.")
        w("")

    # ---- capacity
    if cap:
        w("## Concurrent local instances")
        w("")
        w(f"A fresh `spotlab up --time-scale 1`, a loopback `spotlab target --rate 100000`, and a "
          f"maintain fleet of t2.small (weight 1, us-east-1a and us-east-1b) whose user data runs "
          f"`spotlab agent --callers 1 --rate 1 --report /dev/null` against the target. Each step sets "
          f"the target capacity, waits until every instance is `running` and its agent process is up, "
          f"waits 3 s plus 1 s per 200 instances, then measures {cap['window_s']} s. Control-plane CPU is the `spotlab up` process "
          f"alone (its /proc/PID/stat utime+stime, not its children), as a share of one core. Each "
          f"instance also has its own metadata service inside the control plane, which every agent "
          f"polls (IMDSv2) every 5 s.")
        w("")
        w("| instances | agents up | control plane (% of a core) | target (%) | all agents (% of a core) | machine busy (% of all cores; includes other users) | load (1 min) | req/s at the target | control plane RSS | ramp to running + agents |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for s in cap["steps"]:
            if "cp_core" not in s:
                w(f"| {s['target']:,} | did not reach target: {s['running']} running, {s['agents']} agents after "
                  f"{s['ramp_s']:.0f} s | | | | | | | | |")
                continue
            up = f"{s['agents']:,}" + (f" (**{s['agents_exited']} exited**)" if s.get("agents_exited") else "")
            w(f"| {s['target']:,} | {up} | {s['cp_core'] * 100:.1f} | {s['target_core'] * 100:.1f} | "
              f"{s['agents_core'] * 100:.0f} | {s['machine_busy'] * 100:.0f} | {s['load1']:.1f} | "
              f"{fmt(s.get('target_rps'))} | {fmt(s.get('cp_rss_mib'), 0)} MiB | {s['ramp_s']:.1f} s |")
        w("")
        w("The load average counts the threads runnable at the kernel's sampling instants; many agents "
          "wake in the same instants, so it reads in the hundreds while the CPU is far from saturated. "
          "The CPU columns are the measure.")
        w("")
        w(f"Stopped by: **{cap.get('limit')}** (steps planned: {', '.join(str(x) for x in cap['steps_planned'])}). "
          + (f"After DeleteFleets (terminate), {cap.get('agents_left_after_delete')} agent process(es) were "
             f"left after {fmt(cap.get('terminate_s'), 1)} s. " if "agents_left_after_delete" in cap else "")
          + f"`spotlab up` on SIGTERM: {cap.get('stopped')}.")
        w("")

    # ---- launch
    if lau:
        w("## Launch to running")
        w("")
        w(f"A fresh `spotlab up --time-scale 1 --boot-delay 5s` (the boot delay is the default: 5 s of "
          f"virtual time from `pending` to `running`; at scale 1 that is 5 s of wall time). A maintain "
          f"fleet of t2.small whose user data appends `date +%s.%N` to a file. Times are wall time from "
          f"CreateFleet returning; `running` is the first DescribeFleetInstances + DescribeInstances "
          f"poll (every ~20 ms plus the calls) that sees every instance running.")
        w("")
        w("| fleet size | CreateFleet call | to all `running` | to first user data | to last user data | user data p50 | user data runs seen |")
        w("|---|---|---|---|---|---|---|")
        for e in lau.get("fleets", []):
            w(f"| {e['size']:,} | {e['create_call_s'] * 1000:.0f} ms | {fmt(e['to_all_running_s'])} s | "
              f"{fmt(e['to_first_user_data_s'])} s | {fmt(e['to_last_user_data_s'])} s | "
              f"{fmt(e['user_data_p50_s'])} s | {e['user_data_started']}/{e['size']} |")
        w("")
        w(f"`spotlab up` on SIGTERM: {lau.get('stopped')}.")
        w("")

    # ---- defects & notes
    if defects or notes:
        w("## Defects and anomalies")
        w("")
        for d in defects:
            w(f"- {d}")
        for n in notes:
            w(f"- {n}")
        w("")

    # ---- machine, versions, commands
    w("## Machine, versions, commands")
    w("")
    v = f["versions"]
    w(f"- Machine: {f['nproc']} cores, {f['cpu_model']}, {f['mem_total_gib']} GiB RAM "
      f"({f['mem_available_gib_at_start']} GiB available at the start), kernel {f['kernel']}; load "
      f"average at the start {', '.join(str(x) for x in f['loadavg_at_start'])}.")
    w(f"- Versions: {v['spotlab']} (release build, git {f['git']}), moto {v['moto']} (werkzeug "
      f"{v['werkzeug']}, its development server, threaded), boto3 {v['boto3']} / botocore {v['botocore']}, "
      f"{v['oha']}, Python {v['python']}.")
    w(f"- Settings: {st['rounds']} round(s); c{st['connections']} runs {st['replay_s']} s, c1 runs "
      f"{st['latency_s']} s; oha worker threads: {st['oha_threads']}; fixture fleet {st['fleet_size']:,} "
      f"instances; capacity steps {st['capacity_steps']} with {st['window_s']} s windows; launch fleets "
      f"{st['launch_sizes']}.")
    w("- Replayed headers: the captured `Content-Type`, `X-Amz-Date` and `Authorization` (neither "
      "server verifies signatures here; moto routes a request to its EC2 backend by the service "
      "named in `Authorization`). oha's own User-Agent replaces boto3's.")
    w("")
    w("Commands (ports are free loopback ports picked at run time; `$REPO` is the clone, `$TMP` the "
      "run's temporary directory):")
    w("")
    w("```sh")
    w(raw["command"])
    for k, c in raw.get("commands", {}).items():
        # Paths relative to the repository and ports as placeholders: the same on any machine.
        c = c.replace(str(ROOT), "$REPO")
        c = re.sub(r"(127\.0\.0\.1:|-state-)\d+", lambda m: m.group(1) + ("PORT" if m.group(1)[0] == "1" else "N"), c)
        c = c.replace("\n", "\\n")
        w(f"# {k}")
        w(c)
    w("```")
    w("")
    if raw.get("bodies"):
        w("<details><summary>The captured request bodies (spotlab's ids; moto's differ only in ids)</summary>")
        w("")
        for call, body in raw["bodies"].items():
            shown = body if len(body) <= 1200 else body[:1200] + f"... ({len(body):,} bytes in all)"
            w(f"**{call}**")
            w("")
            w("```")
            w(shown)
            w("```")
            w("")
        w("</details>")
        w("")
    md_path.write_text("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (3 s / 2 s), one round, small steps")
    ap.add_argument("--rounds", type=int, help="replay rounds, each with fresh servers (default 2, quick 1)")
    ap.add_argument("--replay-duration", type=int, help="seconds per c8 oha run (default 10, quick 3)")
    ap.add_argument("--latency-duration", type=int, help="seconds per c1 oha run (default 5, quick 2)")
    ap.add_argument("--connections", type=int, default=8, help="oha connections for throughput (8)")
    ap.add_argument("--oha-threads", type=int, help="oha --worker-threads (default: oha's own, the physical cores)")
    ap.add_argument("--fleet-size", type=int, default=1000, help="instances in the described fleet (1000)")
    ap.add_argument("--steps", type=int, nargs="+", help="capacity steps (default 25 50 100 200 400 800)")
    ap.add_argument("--window", type=int, help="seconds measured per capacity step (default 20, quick 6)")
    ap.add_argument("--launch-sizes", type=int, nargs="+", help="launch-time fleet sizes (default 1 100)")
    ap.add_argument("--no-sdk", action="store_true", help="skip the boto3 end-to-end view")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "EC2.md")
    ap.add_argument("--raw", type=Path, default=ROOT / "bench" / "ec2-raw.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, bodies)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the Markdown from an existing --raw file")
    args = ap.parse_args()
    args.command_line = os.environ.get("SPOTLAB_BENCH_COMMAND") or \
        "bench/ec2/run.sh " + " ".join(shlex.quote(a) for a in sys.argv[1:])

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
        try:
            raw = bench.run()
        except KeyboardInterrupt as e:
            log(f"interrupted ({e}): stopping every process this run started; no report written")
            sys.exit(130)
        raw["notes"] = bench.notes
        raw["defects"] = bench.defects
        args.raw.write_text(json.dumps(raw, indent=1, default=str) + "\n")
        write_report(raw, args.out)
        log(f"wrote {args.out} and {args.raw}" + (f" (logs kept in {bench.tmp})" if args.keep else ""))
    finally:
        PROCS.stop_all()
        if not args.keep:
            shutil.rmtree(bench.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
