"""Writes bench/MONITORING.md from the monitoring benchmark's raw numbers (the dict
bench.py measures and saves as bench/monitoring-raw.json): goals and ratios first, then
the method, the machine, and every number behind the goals. Nothing here measures;
`bench.py --report-only` rewrites the Markdown from a saved raw file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from common import (ALARM_KIND_TEXT, ALARM_KINDS, CALLS, EVAL_GOAL_1, EVAL_GOAL_60, INGEST_CALLS,
                    OTHER_LIMIT, P99_GOAL_MS, PROFILE_FRAMES, RATIO_GOAL, REPORTS_CORE_SHARE, ROOT,
                    SERIES_PER_REPORT, SERVERS, TMPFS, WALKTHROUGH_NS, fmt, median, verdict, worst)

# Every server a replay may have run on, in table order.
ALL_SERVERS = ("spotlab", TMPFS, "moto")
SERVER_TEXT = {"spotlab": "spotlab", TMPFS: "spotlab, state on tmpfs", "moto": "moto"}
# Calls whose p99 one at a time is held to the EC2 benchmark's absolute bar (small calls).
ALARM_CALLS_WITH_P99 = ("PutMetricAlarm", "DescribeAlarms-names-100")
# Command names that tell another process is a build.
BUILD_COMMANDS = ("rustc", "cargo", "cc1", "cc1plus", "ld", "rust-lld", "clang", "cc", "build-script-bu")


# --------------------------------------------------------------------------- numbers

def is_clean(run: dict | None) -> bool:
    """A run during which the rest of the machine stayed (nearly) idle."""
    return bool(run) and (run.get("other_core") or 0.0) <= OTHER_LIMIT


def pick(runs: list[dict]) -> list[dict]:
    """The clean runs when there is one, else all (every run is in the per-round details)."""
    return [r for r in runs if is_clean(r)] or runs


def runs_of(raw: dict, call: str, server: str, sub: str) -> list[dict]:
    return [e[sub] for rnd in raw.get("rounds", [])
            if (e := rnd.get("calls", {}).get(call, {}).get(server)) and e.get(sub)]


def ratio_of(pairs: list[tuple[float, bool]]) -> float | None:
    """The median of per-round ratios, of the clean rounds when there is one."""
    return median([r for r, clean in pairs if clean] or [r for r, _ in pairs])


def aggregate(raw: dict) -> dict:
    """Per call: each server's figures over rounds (throughput and p50 the median, p99 the
    worst round), and per round the ratios of each spotlab against moto: throughput
    (spotlab ÷ moto, c8) and p99 one call at a time (moto ÷ spotlab, c1)."""
    agg = {}
    for call in CALLS:
        a: dict = {}
        for s in ALL_SERVERS:
            c8, c1 = runs_of(raw, call, s, "c8"), runs_of(raw, call, s, "c1")
            if not c8:
                continue
            a[s] = {"ok_rps": median([r.get("ok_rps") for r in pick(c8)]),
                    "p50": median([r.get("p50_ms") for r in pick(c8)]),
                    "p99": worst([r.get("p99_ms") for r in pick(c8)]),
                    "c1_p50": median([r.get("p50_ms") for r in pick(c1)]),
                    "c1_p99": worst([r.get("p99_ms") for r in pick(c1)]),
                    "cpu_ms": median([r.get("server_cpu_ms_per_req") for r in pick(c8)]),
                    "non200": worst([r.get("non200_share") for r in c8 + c1])}
        for s in ("spotlab", TMPFS):
            rps, p99 = [], []
            for rnd in raw.get("rounds", []):
                e = rnd.get("calls", {}).get(call, {})
                if s not in e or "moto" not in e:
                    continue
                sp8, mo8, sp1, mo1 = e[s]["c8"], e["moto"]["c8"], e[s]["c1"], e["moto"]["c1"]
                if sp8.get("ok_rps") and mo8.get("ok_rps"):
                    rps.append((sp8["ok_rps"] / mo8["ok_rps"], is_clean(sp8) and is_clean(mo8)))
                if sp1.get("p99_ms") and mo1.get("p99_ms"):
                    p99.append((mo1["p99_ms"] / sp1["p99_ms"], is_clean(sp1) and is_clean(mo1)))
            a[f"{s}_rps_ratios"], a[f"{s}_rps_ratio"] = rps, ratio_of(rps)
            a[f"{s}_p99_ratios"], a[f"{s}_p99_ratio"] = p99, ratio_of(p99)
        agg[call] = a
    return agg


def rounds_text(pairs: list[tuple[float, bool]]) -> str:
    return ", ".join(f"{r:.1f}" + ("" if clean else "*") for r, clean in pairs)


def creation(raw: dict) -> list[dict]:
    return [rnd["create_alarms"] for rnd in raw.get("rounds", []) if rnd.get("create_alarms")]


def report_runs(raw: dict, key: str) -> list[dict]:
    return [rnd["reports"][key] for rnd in raw.get("rounds", []) if rnd.get("reports", {}).get(key)]


def every_other_core(raw: dict) -> list[float]:
    """Other processes' cores during every measured run of the whole benchmark."""
    out = []
    for rnd in raw.get("rounds", []):
        for v in rnd.get("calls", {}).values():
            out += [e[sub]["other_core"] for e in v.values() for sub in ("c8", "c1") if e.get(sub)]
        out += [r["other_core"] for k, r in rnd.get("reports", {}).items() if k.startswith("batch")]
    out += [w["other_core"] for w in (raw.get("evaluation") or {}).get("windows", [])]
    return [x for x in out if x is not None]


def sharing(raw: dict) -> str | None:
    """What else used the machine during the run, in a few words, or None if nothing
    did for long."""
    others = every_other_core(raw)
    if not others or median(others) < 0.05 and sum(x > OTHER_LIMIT for x in others) == 0:
        return None
    seen = raw.get("others_seen") or {}
    builds = [k for k in seen if k in BUILD_COMMANDS]
    return "shared with other builds" if builds else "shared with other work"


# --------------------------------------------------------------------------- sections

def goals(raw: dict, agg: dict) -> list[str]:
    st = raw["settings"]
    rows = []

    def ratio_rows(call: str, what: str):
        a = agg.get(call, {})
        for s in ("spotlab", TMPFS):
            if a.get(f"{s}_rps_ratio") is not None:
                rows.append((f"{what}: throughput, {SERVER_TEXT[s]} ÷ moto ≥ {RATIO_GOAL:.0f}x "
                             f"({st['connections']} connections)",
                             f"**{fmt(a[f'{s}_rps_ratio'], 1)}x** ({fmt(a[s]['ok_rps'])} vs "
                             f"{fmt(a['moto']['ok_rps'])} req/s; rounds {rounds_text(a[f'{s}_rps_ratios'])})",
                             verdict(a[f"{s}_rps_ratio"] >= RATIO_GOAL)))
        return a

    for call, what in (("PutMetricData-20", "PutMetricData, the walkthrough's 20 datums"),
                       ("PutMetricData-1000", "PutMetricData, 1,000 datums with Values/Counts")):
        a = ratio_rows(call, what)
        for s in ("spotlab", TMPFS):
            if a.get(f"{s}_p99_ratio") is not None:
                rows.append((f"{what}: p99 one call at a time, moto ÷ {SERVER_TEXT[s]} ≥ {RATIO_GOAL:.0f}x",
                             f"**{fmt(a[f'{s}_p99_ratio'], 1)}x** ({fmt(a[s]['c1_p99'])} vs "
                             f"{fmt(a['moto']['c1_p99'])} ms; under {st['connections']} connections "
                             f"{fmt(a[s]['p99'])} vs {fmt(a['moto']['p99'])} ms)",
                             verdict(a[f"{s}_p99_ratio"] >= RATIO_GOAL)))
    total = next((rnd["alarms_total"] for rnd in raw.get("rounds", []) if rnd.get("alarms_total")), None)
    cr = creation(raw)
    for s in ("spotlab", TMPFS):
        pairs = [(x[s]["calls_per_s"] / x["moto"]["calls_per_s"], True) for x in cr
                 if x.get(s, {}).get("calls_per_s") and x.get("moto", {}).get("calls_per_s")]
        if pairs:
            r = ratio_of(pairs)
            rows.append((f"PutMetricAlarm creating {total:,} alarms, one call at a time: {SERVER_TEXT[s]} ÷ moto "
                         f"≥ {RATIO_GOAL:.0f}x",
                         f"**{fmt(r, 1)}x** ({fmt(median([x[s]['calls_per_s'] for x in cr]))} vs "
                         f"{fmt(median([x['moto']['calls_per_s'] for x in cr]))} calls/s; rounds "
                         f"{rounds_text(pairs)})", verdict(r >= RATIO_GOAL)))
    for call, what in (("PutMetricAlarm", f"PutMetricAlarm updating one of {fmt(total)} alarms"),
                       ("DescribeAlarms-names-100", f"DescribeAlarms of 100 named alarms among {fmt(total)}"),
                       ("DescribeAlarms-100", f"DescribeAlarms, first page (MaxRecords 100) of {fmt(total)} "
                                              f"(moto answers all {fmt(total)}: not the same work)")):
        ratio_rows(call, what)
    for call in ALARM_CALLS_WITH_P99:
        a = agg.get(call, {}).get("spotlab")
        if a and a.get("c1_p99") is not None:
            rows.append((f"{call}: spotlab p99 < {P99_GOAL_MS:.0f} ms one call at a time (the EC2 benchmark's bar)",
                         f"{fmt(a['c1_p99'])} ms (p50 {fmt(a['c1_p50'])} ms)", verdict(a["c1_p99"] < P99_GOAL_MS)))

    b1, b100 = report_runs(raw, "batch1-load"), report_runs(raw, "batch100-load")
    if b1:
        rps = median([x["reports_per_s"] for x in pick(b1)])
        core = median([x["server_core"] for x in pick(b1)])
        us = median([x["server_cpu_us_per_report"] for x in pick(b1)])
        rows.append((f"native reports, one per POST (an agent's steady state), {b1[0]['workers']} senders: "
                     "reports/s, i.e. agent instances reporting once a second",
                     f"**{fmt(rps)} reports/s** = {fmt(round(rps))} agents ({fmt(rps * SERIES_PER_REPORT)} datapoints/s), "
                     f"control plane at {core * 100:.0f}% of a core", "report"))
        rows.append(("native reports, one per POST: control plane CPU per report, and the agents reporting once a "
                     f"second that one core, and {REPORTS_CORE_SHARE * 100:.0f}% of a core, would serve at that cost",
                     f"{fmt(us)} µs a report: ~{fmt(round(1e6 / us))} agents a core, "
                     f"~{fmt(round(REPORTS_CORE_SHARE * 1e6 / us))} in {REPORTS_CORE_SHARE * 100:.0f}%", "report"))
    if b100:
        rows.append(("native reports, 100 per POST (an agent's backlog): reports/s",
                     f"{fmt(median([x['reports_per_s'] for x in pick(b100)]))} reports/s, "
                     f"{fmt(median([x['server_cpu_us_per_report'] for x in pick(b100)]))} µs CPU a report", "report"))

    ev = (raw.get("evaluation") or {}).get("analysis")
    if ev and ev.get("cpu_ms_per_virtual_minute") is not None:
        n = raw["evaluation"]["alarms"]
        rows.append((f"{n:,} alarms: control plane CPU per virtual minute (every alarm evaluated once a minute)",
                     f"**{fmt(ev['cpu_ms_per_virtual_minute'])} ms** ({fmt(ev['cpu_us_per_evaluation'], 2)} µs an "
                     "evaluation)", "report"))
        rows.append((f"{n:,} alarms at time scale 1 (a virtual minute per minute): under "
                     f"{EVAL_GOAL_1 * 100:.0f}% of a core", f"{ev['core_at_scale_1'] * 100:.2f}% of a core",
                     verdict(ev["core_at_scale_1"] < EVAL_GOAL_1)))
        rows.append((f"{n:,} alarms at time scale 60 (a virtual minute per second): under "
                     f"{EVAL_GOAL_60 * 100:.0f}% of a core", f"{ev['core_at_scale_60'] * 100:.1f}% of a core",
                     verdict(ev["core_at_scale_60"] < EVAL_GOAL_60)))

    stored = [c for rnd in raw.get("rounds", []) for s, v in rnd.get("stored", {}).items() if s != "moto"
              for c in v.values()]
    if stored:
        rows.append(("PutMetricData: every datum spotlab answered is stored, once (SampleCount of a checked series "
                     "= datums in the calls answered)", f"{sum(c['exact'] for c in stored)}/{len(stored)} exact",
                     verdict(all(c["exact"] for c in stored))))
    checks = [rnd["reports"]["check"] for rnd in raw.get("rounds", []) if rnd.get("reports", {}).get("check")]
    if checks:
        rows.append(("native reports: stored Sum(Success) and SampleCount = what the reports answered carried",
                     f"{sum(c['exact'] for c in checks)}/{len(checks)} exact", verdict(all(c["exact"] for c in checks))))

    out = ["## Goals", "",
           f"Bars: spotlab ÷ moto ≥ {RATIO_GOAL:.0f}x for throughput (and moto ÷ spotlab ≥ {RATIO_GOAL:.0f}x for p99) "
           f"and p99 < {P99_GOAL_MS:.0f} ms one call at a time are the EC2 benchmark's (bench/EC2.md); the evaluation "
           f"bars ({EVAL_GOAL_1 * 100:.0f}% of a core in real time, {EVAL_GOAL_60 * 100:.0f}% at time scale 60) are this "
           "benchmark's own. Native reports have no peer: their rows give absolute figures. Rows for "
           "\"spotlab, state on tmpfs\" are the same software with its state directory on tmpfs, where "
           "fdatasync costs nothing: moto keeps nothing durable, so those rows compare like with like, and the "
           "difference from plain spotlab is this machine's disk (see Machine).", "",
           "| goal | measured | verdict |", "|---|---|---|"]
    out += [f"| {g} | {m} | {v} |" for g, m, v in rows]
    out.append("")
    if any(not clean for a in agg.values() for k, pairs in a.items() if k.endswith("_ratios")
           for _, clean in pairs):
        out += [f"A round marked * ran while other processes used more than {OTHER_LIMIT} of a core; it is left out "
                "of the median when a clean round exists.", ""]
    return out


def frame_share(raw: dict, profile: str, pattern: str) -> float | None:
    """Inclusive share (%) of a frame in the profile whose label starts with `profile`."""
    for label, v in (raw.get("profile") or {}).items():
        if label.startswith(profile) and isinstance(v, dict):
            return (v.get("frames") or {}).get(pattern)
    return None


def findings(raw: dict, agg: dict) -> list[str]:
    """What the verdicts come down to: the few numbers, from the profiles and the in-process
    figures, that explain them."""
    crit = (raw.get("criterion") or {}).get("benchmarks") or {}
    out = []
    a = agg.get("PutMetricData-20", {})
    if a.get("spotlab") and a.get("moto"):
        s, m = a["spotlab"], a["moto"]
        text = (f"- **PutMetricData, the walkthrough's call**: spotlab answers {fmt(a['spotlab_rps_ratio'], 1)}x "
                f"moto's rate" + (f" ({fmt(a[f'{TMPFS}_rps_ratio'], 1)}x with its state on tmpfs)"
                                  if a.get(f"{TMPFS}_rps_ratio") else "")
                + f" on {fmt(s['cpu_ms'] and m['cpu_ms'] / s['cpu_ms'], 1)}x less CPU per call "
                f"({fmt(s['cpu_ms'], 3)} vs {fmt(m['cpu_ms'], 3)} ms).")
        core = crit.get("monitoring/ingest/put_metric_data_20")
        if core:
            text += (f" The call itself is {fmt(core['mean_ns'] / 1000)} µs in-process; the rest of the "
                     f"{fmt(s['cpu_ms'] * 1000)} µs is the endpoint and the journal.")
        journal = frame_share(raw, "PutMetricData", "controlplane::store::Store::append")
        if journal:
            text += (f" Under load the journal's redb commit is {journal:.0f}% of the control plane's CPU (state "
                     "on disk), and every answer waits for its fdatasync: spotlab's time goes to durability and "
                     "the endpoint, not to CloudWatch's work.")
        out.append(text)
    b1 = report_runs(raw, "batch1-load")
    core = crit.get("monitoring/ingest/native_report_1")
    if b1 and core:
        us = median([x["server_cpu_us_per_report"] for x in pick(b1)])
        text = (f"- **Native reports**: a report is {fmt(core['mean_ns'] / 1000)} µs of work in the core but "
                f"{fmt(us)} µs of the control plane's CPU over HTTP, so a core serves ~{fmt(round(1e6 / us))} agents "
                "reporting once a second.")
        journal = frame_share(raw, "native reports", "controlplane::store::Store::append")
        sync = frame_share(raw, "native reports", "fdatasync")
        decode = frame_share(raw, "native reports", "agent_wire::latency::Latency::decode")
        zeroed = frame_share(raw, "native reports", "hdrhistogram::Histogram<T>::new_with_bounds")
        ingest = frame_share(raw, "native reports", "monitoring::service::Monitoring::ingest_reports")
        expire = frame_share(raw, "native reports", "watch::metrics::store::Store::expire") or 0.0
        if journal and decode and ingest:
            text += (f" Under load {journal:.0f}% of its CPU is the journal (a redb commit"
                     + (f", {sync:.0f}% its fdatasync" if sync else "")
                     + f"; every answer waits for it), {decode:.0f}% decodes the report's two latency histograms"
                     + (f" ({zeroed:.0f}% allocating and zeroing their HdrHistogram counts)" if zeroed else "")
                     + f", {ingest:.0f}% is the report's work in the core and {expire:.0f}% retention, which visits "
                     "only the series with something to expire; the rest is HTTP and the runtime.")
        out.append(text)
    ev = (raw.get("evaluation") or {}).get("analysis")
    if ev and ev.get("cpu_ms_per_virtual_minute"):
        text = (f"- **10,000 alarms**: {fmt(ev['cpu_ms_per_virtual_minute'])} ms of CPU per virtual minute "
                f"({fmt(ev['cpu_us_per_evaluation'], 2)} µs an evaluation), {ev['core_at_scale_60'] * 100:.1f}% of "
                f"a core at time scale 60 and {ev['core_at_scale_1'] * 100:.2f}% in real time.")
        minute = crit.get("monitoring/evaluate/10000_alarms_1000_metrics")
        if minute:
            text += (f" In-process an evaluation is {fmt(minute['mean_ns'] / 10_000 / 1000, 2)} µs: each alarm's "
                     "query is parsed once per PutMetricAlarm, and reason texts and data are written only for a "
                     "change of state, so a steady minute reads the series and judges them.")
        out.append(text)
    if not out:
        return []
    return ["What the verdicts come down to:", ""] + out + [""]


def method(raw: dict) -> list[str]:
    st = raw["settings"]
    ev = raw.get("evaluation") or {}
    tpl = raw.get("report_templates", {})
    total = next((rnd["alarms_total"] for rnd in raw.get("rounds", []) if rnd.get("alarms_total")), st["alarms_api"])
    out = ["## Method", "",
           "The peer is moto's server mode (`moto[server]`), the CloudWatch emulator most people test against. "
           "Each round starts fresh servers: `spotlab up --time-scale 1` with its state directory in the run's "
           "temporary directory on disk (every call that changes the cloud is journaled in redb and made durable "
           "with fdatasync before it is answered), the same on tmpfs, and `moto_server`.", "",
           f"- **Replays.** The exact request bodies boto3 sends (AWS JSON 1.0 with `x-amzn-query-mode: true`, "
           "captured from botocore's `before-send` event; botocore gzips bodies over 10 KiB and the replay "
           f"does too) are replayed with oha over keep-alive connections: `-c {st['connections']}` for "
           f"{st['replay_s']} s (throughput; p50/p99 include queueing behind the other connections) and `-c 1` for "
           f"{st['latency_s']} s (one call at a time), one server at a time, order alternating by round, "
           f"{st['rounds']} round(s). Throughput counts HTTP 200 answers only; one answer before and after each "
           "load is checked. CPU is the server process's own user+system time per answered request during the "
           f"c{st['connections']} run.",
           f"- **Ingest.** PutMetricData-20 is the walkthrough's test script's call (20 datums alternating `Success` 1 / "
           f"`Error` 0, namespace `{WALKTHROUGH_NS}`, no timestamp, no dimensions); PutMetricData-1000 is 1,000 "
           "datums (10 metric names × 100 instances, dimensions `InstanceId` and `AvailabilityZone`, 10 `Values` "
           "with `Counts` each, unit `Milliseconds`), which botocore gzips. After the replays, each server's "
           "`SampleCount` of one series per call (GetMetricStatistics) must equal the datums of every call it "
           "answered with 200.",
           f"- **Alarms.** {total:,} alarms are created one call at a time on one keep-alive connection (Python "
           f"`http.client`): {ALARM_KINDS} kinds × {total // ALARM_KINDS:,} metrics, the kinds' bodies captured "
           "from boto3 and renamed per metric (kinds listed under Results). Then, with the alarms in place, "
           "PutMetricAlarm of one existing alarm's unchanged definition (an update; spotlab journals every "
           "PutMetricAlarm), DescribeAlarms naming 100 alarms (`AlarmNames`, AWS's "
           "maximum: the same 100 alarms from both servers) and DescribeAlarms asking for a first page "
           "(`MaxRecords` 100) are replayed. moto ignores `MaxRecords` and answers every alarm in one page, so "
           "that row compares what each server does with the same request, not the same work.",
           "- **Native reports** (spotlab only: moto has no such API). `POST /spotlab/v1/reports` with a JSON "
           f"array of `agent_wire::Report`s from Python sender processes, one keep-alive connection each. Counts "
           f"and both histograms come from {len(tpl.get('templates', []))} reports of a real `spotlab agent` run; "
           "every report is new (its own run id and sequence number) and carries instance id, fleet id, "
           f"instance type and zone, so it becomes {SERIES_PER_REPORT} datapoints (`Success`, `Error`, `Latency` × "
           "whole run, `FleetId`, `InstanceId`, `InstanceType`, `AvailabilityZone`). One report per POST: "
           "2,000 agents taking turns, each report stamped with the current second. 100 per POST: one agent's "
           "backlog, 100 consecutive seconds of a new run. Each sender waits for its answer, which comes once "
           "the reports are durable. Afterwards the stored `Sum(Success)` and `SampleCount` must equal what the "
           "answered reports carried.",
           f"- **Evaluation** (spotlab only: moto never evaluates an alarm; its alarms change state only by "
           f"SetAlarmState). A fresh `spotlab up --time-scale 60` (a virtual minute per wall second) gets 1,000 "
           f"metrics fed by one PutMetricData of 1,000 datums every {ev.get('feed_interval_s', 0.5)} s (boto3's "
           f"body, replayed; metric m gets m % 100). The control plane's CPU (/proc/PID/stat utime+stime) is "
           f"measured over {ev.get('window_s', st['window_s'])} s windows with no alarms, then with "
           f"{ev.get('alarms', 10_000):,} alarms (the same {ALARM_KINDS} kinds × 1,000 metrics, created after the "
           "first window and given 20 virtual minutes so every range holds data), then with none again after "
           "DeleteAlarms. The baseline is the alarm-free window before the alarms (the one after DeleteAlarms "
           "measures the allocator's state after 10,000 alarms were freed, see Results), and the alarms' cost is "
           "each loaded window's CPU less that baseline; the feed costs a little more as the store fills, so this "
           "overstates the alarms' cost slightly.",
           "- **In-process.** `cargo bench -p spotlab-bench --bench monitoring` (bench/benches/monitoring.rs) "
           "runs the same fixtures on `monitoring::Monitoring` with no HTTP, codec or journal, to split the "
           "HTTP figures into the core's share and the rest; `perf` profiles say where the rest goes.",
           "- **Checks that stop the run.** A wrong answer from spotlab, a refused call, a stored count that "
           "differs from what was answered, an alarm not OK or ALARM after 20 virtual minutes of data, or a "
           "failed criterion check ends the run with an error and no report.",
           "- Other processes' CPU is measured during every run (busy CPU from /proc/stat minus the server and "
           "the load generator); before each load the driver waits up to a few seconds for the machine to be "
           f"idle. A run during which others used more than {OTHER_LIMIT} of a core is marked * and left out of "
           "medians whenever a clean run of the same thing exists.", ""]
    return out


def machine(raw: dict) -> list[str]:
    f, st, v = raw["facts"], raw["settings"], raw["facts"]["versions"]
    others = every_other_core(raw)
    busy = sum(x > OTHER_LIMIT for x in others)
    seen = {k: x for k, x in (raw.get("others_seen") or {}).items() if x >= 1.0}
    shared = sharing(raw)
    out = ["## Machine", "",
           f"- {f['nproc']} cores ({f['cpu_model']}), {f['mem_total_gib']} GiB RAM "
           f"({f['mem_available_gib_at_start']} GiB available at the start), kernel {f['kernel']}.",
           (f"- **The cores were {shared}**: the benchmark did not have the machine to itself. " if shared else "- ")
           + f"During the measured runs other processes used a median of {fmt(median(others))} cores (max "
           f"{fmt(max(others) if others else None)}); {busy} of {len(others)} runs had more than {OTHER_LIMIT} of a "
           f"core taken by them. Load average at the start {', '.join(str(x) for x in f['loadavg_at_start'])}, at "
           f"the end {', '.join(str(x) for x in raw.get('loadavg_at_end', []))}."
           + (" Busiest other processes seen while waiting for an idle machine (CPU seconds): "
              + ", ".join(f"{k} {x:.1f}" for k, x in seen.items()) + "." if seen else "")]
    disk = f.get("disk")
    if disk:
        out.append(f"- Disk of the state directories: `{disk['df']}`; fdatasync after a 4 KiB append takes "
                   f"p50 {fmt(disk['fdatasync']['p50_ms'])} ms, p99 {fmt(disk['fdatasync']['p99_ms'])} ms "
                   f"({disk['fdatasync']['n']} tries at the start). Every journaled call waits for at least one.")
    if f.get("tmpfs"):
        t = f["tmpfs"]
        out.append(f"- tmpfs at `{t['path']}`: fdatasync p50 {fmt(t['fdatasync']['p50_ms'], 3)} ms, p99 "
                   f"{fmt(t['fdatasync']['p99_ms'], 3)} ms.")
    out += [f"- Versions: {v['spotlab']} (release build, git {f['git']}), moto {v['moto']} (werkzeug "
            f"{v['werkzeug']}, its development server, threaded), boto3 {v['boto3']} / botocore {v['botocore']}, "
            f"{v['oha']}, Python {v['python']}.",
            f"- Settings: {st['rounds']} round(s); c{st['connections']} runs {st['replay_s']} s, c1 runs "
            f"{st['latency_s']} s; {st['report_workers']} report senders; {st['alarms_api']:,} alarms for the API "
            f"comparison; evaluation of {st['eval_alarms']:,} alarms in {st['eval_windows']} window(s) of "
            f"{st['window_s']} s.", ""]
    return out


def replay_tables(raw: dict, agg: dict) -> list[str]:
    st = raw["settings"]
    c = st["connections"]
    out = ["### Replayed calls", "",
           f"Throughput and p50 are medians over rounds, p99 the worst round. Ratios are per-round medians: "
           f"throughput spotlab ÷ moto at c{c}, p99 moto ÷ spotlab at c1.", "",
           f"| call | body | server | req/s (c{c}) | ratio to moto | p50 / p99 (c{c}) | p50 / p99 (c1) | "
           "p99 ratio (c1) | CPU ms/req | non-200 |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for call in CALLS:
        a = agg.get(call, {})
        first = next((rnd["calls"][call]["spotlab"] for rnd in raw.get("rounds", [])
                      if "spotlab" in rnd.get("calls", {}).get(call, {})), {})
        body = f"{fmt(first.get('body_bytes'))} B" + (" gzip" if first.get("gzip") else "")
        for s in ALL_SERVERS:
            x = a.get(s)
            if not x:
                continue
            ratio = "" if s == "moto" else f"{fmt(a.get(f'{s}_rps_ratio'), 1)}x"
            p99r = "" if s == "moto" else f"{fmt(a.get(f'{s}_p99_ratio'), 1)}x"
            out.append(f"| {call} | {body} | {SERVER_TEXT[s]} | {fmt(x['ok_rps'])} | {ratio} | "
                       f"{fmt(x['p50'])} / {fmt(x['p99'])} ms | {fmt(x['c1_p50'])} / {fmt(x['c1_p99'])} ms | {p99r} | "
                       f"{fmt(x['cpu_ms'], 3)} | {fmt((x['non200'] or 0) * 100, 1)}% |")
    out.append("")
    for call in INGEST_CALLS:
        n = int(call.rsplit("-", 1)[1])
        a = agg.get(call, {})
        out.append(f"- {call} in datums per second: " + ", ".join(
            f"{SERVER_TEXT[s]} {fmt(a[s]['ok_rps'] * n)}" for s in ALL_SERVERS if a.get(s)) + ".")
    out.append("- Replays carry no timestamp, so each is stored at the server's now, as the SDK's call would be.")
    out.append("")
    first_round = (raw.get("rounds") or [{}])[0]
    lines = []
    for call in CALLS:
        parts = []
        for s in ALL_SERVERS:
            e = first_round.get("calls", {}).get(call, {}).get(s)
            if not e:
                continue
            v = (e.get("verify_before") or [{}])[0]
            desc = f"HTTP {v.get('status')}, {fmt(v.get('bytes'))} bytes"
            if v.get("alarms") is not None:
                desc += f", {v['alarms']:,} alarms, NextToken {'present' if v.get('next_token') else 'absent'}"
            elif v.get("keys") is not None:
                desc += f", JSON keys {v['keys'] or 'none'}"
            if e.get("answer_note"):
                desc += f" ({e['answer_note']}: moto ignores `MaxRecords`)"
            if e.get("problem"):
                desc += f"; **{e['problem']}**"
            parts.append(f"{SERVER_TEXT[s]}: {desc}")
        if parts:
            lines.append(f"- **{call}**: " + "; ".join(parts) + ".")
    if lines:
        out += ["What each server answered (the first replay of round 1):", ""] + lines + [""]
    return out


def round_details(raw: dict) -> list[str]:
    out = []
    for rnd in raw.get("rounds", []):
        if not rnd.get("calls"):
            continue
        order = rnd.get("ingest_order") or list(SERVERS)
        out += [f"<details><summary>Round {rnd['round']} (order {', '.join(order)}): per-run numbers</summary>", "",
                "| call | server | c8 req/s | responses | status | p50 / p90 / p99 / p99.9 ms | c1 req/s | "
                "c1 p50 / p99 ms | server CPU s | server % of a core | other users' cores c8 / c1 |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for call in CALLS:
            for s in ALL_SERVERS:
                e = rnd["calls"].get(call, {}).get(s)
                if not e:
                    continue
                c8, c1 = e.get("c8", {}), e.get("c1", {})
                out.append(
                    f"| {call} | {SERVER_TEXT[s]} | {fmt(c8.get('ok_rps'))} | {fmt(c8.get('responses'))} | "
                    f"{c8.get('status')} | {fmt(c8.get('p50_ms'))} / {fmt(c8.get('p90_ms'))} / "
                    f"{fmt(c8.get('p99_ms'))} / {fmt(c8.get('p99.9_ms'))} | {fmt(c1.get('ok_rps'))} | "
                    f"{fmt(c1.get('p50_ms'))} / {fmt(c1.get('p99_ms'))} | {fmt(c8.get('server_cpu_s'))} | "
                    f"{fmt((c8.get('server_core') or 0) * 100, 0)} | "
                    f"{fmt(c8.get('other_core'))}{'' if is_clean(c8) else '*'} / "
                    f"{fmt(c1.get('other_core'))}{'' if is_clean(c1) else '*'} |")
        out.append("")
        if rnd.get("stored"):
            out += ["Stored sample counts after the replays (expected: every answered call's datums, including "
                    "the boto3 call that captured the body): " + "; ".join(
                        f"{SERVER_TEXT[s]} {call} {fmt(c['stored'])} of {c['expected']:,} "
                        f"({'exact' if c['exact'] else 'different'})"
                        for s, v in rnd["stored"].items() for call, c in v.items()) + ".", ""]
        if rnd.get("sdk"):
            out += ["PutMetricData-20 through boto3, one call after another from one client: " + "; ".join(
                f"{SERVER_TEXT[s]} {fmt(x['calls_per_s'])} calls/s (p50 {fmt(x['p50_ms'])} ms, "
                f"p99 {fmt(x['p99_ms'])} ms)" for s, x in rnd["sdk"].items()) + ".", ""]
        out += ["</details>", ""]
    return out


def creation_table(raw: dict) -> list[str]:
    cr = creation(raw)
    if not cr:
        return []
    n = cr[0]["spotlab"]["n"]
    out = ["### Creating alarms, a new one each call", "",
           f"{n:,} PutMetricAlarm calls, one at a time on one keep-alive connection. Kinds (each on "
           f"{n // ALARM_KINDS:,} metrics):", ""]
    out += [f"{i}. {t}" for i, t in enumerate(ALARM_KIND_TEXT)]
    out += ["", "| round | server | calls/s | ratio to moto | p50 / p99 ms | CPU ms/call | non-200 | alarms held after |",
            "|---|---|---|---|---|---|---|---|"]
    for i, x in enumerate(cr):
        for s in ALL_SERVERS:
            r = x.get(s)
            if not r:
                continue
            ratio = (f"{r['calls_per_s'] / x['moto']['calls_per_s']:.1f}x"
                     if s != "moto" and r.get("calls_per_s") and x.get("moto", {}).get("calls_per_s") else "")
            out.append(f"| {i + 1} | {SERVER_TEXT[s]} | {fmt(r['calls_per_s'])} | {ratio} | {fmt(r['p50_ms'])} / "
                       f"{fmt(r['p99_ms'])} | {fmt(r['server_cpu_ms_per_call'], 3)} | {r['n'] - r['ok']} | "
                       f"{r.get('states')} |")
    out.append("")
    ans = next((rnd.get("answers") for rnd in raw["rounds"] if rnd.get("answers")), None)
    if ans:
        out += ["Alarm `bench-0-host-0000` as each server described it right after: " + "; ".join(
            f"{s}: " + ", ".join(f"{k} {v}" for k, v in x.get("alarm0", {}).items()) for s, x in ans.items()) + ".",
            ""]
    return out


def reports_table(raw: dict) -> list[str]:
    reps = [rnd["reports"] for rnd in raw.get("rounds", []) if rnd.get("reports")]
    if not reps:
        return []
    out = ["### Native agent reports", "",
           "| round | reports per POST | senders | POSTs/s | reports/s | datapoints/s | requests represented/s | "
           "p50 / p99 ms | µs CPU a report | control plane % of a core | senders % | others' cores |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, x in enumerate(reps):
        for key in ("batch1-load", "batch1-c1", "batch100-load", "batch100-c1"):
            r = x.get(key)
            if r:
                out.append(
                    f"| {i + 1} | {r['batch']} | {r['workers']} | {fmt(r['posts_per_s'])} | {fmt(r['reports_per_s'])} | "
                    f"{fmt(r['datapoints_per_s'])} | {fmt(r['requests_represented_per_s'])} | "
                    f"{fmt(r['p50_ms'])} / {fmt(r['p99_ms'])} | {fmt(r['server_cpu_us_per_report'])} | "
                    f"{r['server_core'] * 100:.0f} | {r['client_core'] * 100:.0f} | "
                    f"{fmt(r['other_core'])}{'' if is_clean(r) else '*'} |")
    out.append("")
    for i, x in enumerate(reps):
        c = x.get("check")
        if c:
            out.append(f"- Round {i + 1}: stored `Sum(Success)` {fmt(c['stored_success'])} for "
                       f"{c['expected_success']:,} successes reported, `SampleCount` {fmt(c['stored_samples'])} for "
                       f"{c['expected_completed']:,} completed requests: {'exact' if c['exact'] else '**different**'}.")
    out += ["- Every sender waits for its answer, and an answer waits until its reports are durable, so with a "
            "few senders the journal's fdatasync (see Machine) bounds reports/s while the control plane is below "
            "a full core; CPU per report is the figure that says how many agents a core serves.", ""]
    return out


def evaluation_table(raw: dict) -> list[str]:
    evr = raw.get("evaluation")
    if not evr or not evr.get("analysis"):
        return []
    a = evr["analysis"]
    out = ["### Alarm evaluation", "",
           "| window | starts at | alarms | control plane % of a core | baseline (the feed before any alarm) | alarms' share | "
           "CPU s | wall s | virtual minutes | feed calls | RSS | others' cores |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in evr["windows"]:
        bl = f"{x['baseline_core'] * 100:.1f}" if "baseline_core" in x else ""
        ex = f"{x['extra_core'] * 100:.1f}" if "extra_core" in x else ""
        out.append(f"| {x['label']} | {x['t_mid'] - x['wall_s'] / 2:.0f} s | {x['alarms']:,} | {x['core'] * 100:.1f} | "
                   f"{bl} | {ex} | {x['cpu_s']:.2f} | {x['wall_s']:.1f} | {x['virtual_minutes']} | "
                   f"{x['feed_calls']} | {fmt(x.get('rss_mib'), 0)} MiB | {fmt(x['other_core'])} |")
    cre, feed = evr.get("create", {}), evr.get("feed", {})
    out += ["",
            f"- Evaluations in the loaded windows: {a['evaluations']:,} ({a['virtual_minutes']} virtual minutes × "
            f"{evr['alarms']:,}), {fmt(a['evaluations_per_s'])} per wall second.",
            f"- Their CPU: {a['extra_core'] * 100:.1f}% of a core at time scale 60 = **{fmt(a['cpu_ms_per_virtual_minute'])} "
            f"ms per virtual minute**, {fmt(a['cpu_us_per_evaluation'], 2)} µs per evaluation; at time scale 1 "
            f"that is {a['core_at_scale_1'] * 100:.2f}% of a core.",
            f"- Baseline (the feed alone, before any alarm existed) {a['baseline_core'] * 100:.1f}% of a core; with "
            f"alarms {a['loaded_core'] * 100:.1f}% ({a['loaded_spread'][0] * 100:.1f}–"
            f"{a['loaded_spread'][1] * 100:.1f}%). The feed's own growth as the store fills is counted as the "
            "alarms' (an overestimate).",
            *([f"- After DeleteAlarms the feed alone cost {a['after_core'] * 100:.1f}% of a core: with 10,000 "
               "alarms freed, glibc's malloc walks long free lists (a profile of that state is mostly "
               "`_int_malloc`), so that window is shown but is no baseline for evaluation."]
              if a.get("after_core") is not None else []),
            f"- States 20 virtual minutes after the alarms were created: {evr.get('states_before')}; after the "
            f"measured windows: {evr.get('states_after')}. State changes in the history of one alarm of each "
            f"kind: {history_text(evr.get('history_after') or {})} (1 is the first evaluation's change out of "
            "INSUFFICIENT_DATA: none after).",
            f"- Creating the {cre.get('n', 0):,} alarms at time scale 60: {fmt(cre.get('calls_per_s'))} calls/s "
            f"(p50 {fmt(cre.get('p50_ms'))} ms, p99 {fmt(cre.get('p99_ms'))} ms). Feed: {feed.get('calls')} calls, "
            f"{feed.get('non200')} non-200, p50 {fmt(feed.get('p50_ms'))} ms, p99 {fmt(feed.get('p99_ms'))} ms.", ""]
    return out


def history_text(history: dict) -> str:
    counts = set(history.values())
    if len(counts) == 1:
        return f"{counts.pop()} for each of the {len(history)}"
    return ", ".join(f"`{name}` {n}" for name, n in history.items())


CRITERION_UNITS = {"monitoring/evaluate/10000_alarms_1000_metrics": (10_000, "evaluation"),
                   "monitoring/ingest/put_metric_data_20": (20, "datum"),
                   "monitoring/ingest/put_metric_data_1000_values_counts": (1_000, "datum"),
                   "monitoring/ingest/native_report_1": (1, "report")}


def criterion_table(raw: dict) -> list[str]:
    crit = (raw.get("criterion") or {}).get("benchmarks") or {}
    if not crit:
        return []
    out = ["### In-process: criterion over `monitoring::Monitoring`", "",
           "`evaluate` times `Monitoring::advance_to` the next virtual minute (10,000 evaluations and retention) "
           "after that minute's 1,000 datums were put (untimed); `ingest` times `Monitoring::call(PutMetricData)` "
           "on the already parsed JSON and `Monitoring::ingest_reports` of one report. Wall time, on the same "
           "shared machine.", "",
           "| benchmark | mean | median | per unit |", "|---|---|---|---|"]
    for k, v in sorted(crit.items()):
        n, unit = CRITERION_UNITS.get(k, (1, "call"))
        out.append(f"| `{k}` | {v['mean_ns'] / 1000:,.1f} µs | {v['median_ns'] / 1000:,.1f} µs | "
                   f"{v['mean_ns'] / n / 1000:.3f} µs per {unit} |")
    checks = (raw.get("criterion") or {}).get("checks")
    if checks:
        out += ["", "Its own checks: " + "; ".join(f"`{t}`" for t in checks) + "."]
    out.append("")
    return out


def time_split(raw: dict, agg: dict) -> list[str]:
    crit = (raw.get("criterion") or {}).get("benchmarks") or {}
    ev = (raw.get("evaluation") or {}).get("analysis")
    split = []
    for call, key in (("PutMetricData-20", "monitoring/ingest/put_metric_data_20"),
                      ("PutMetricData-1000", "monitoring/ingest/put_metric_data_1000_values_counts")):
        for s in ("spotlab", TMPFS):
            a = agg.get(call, {}).get(s)
            if crit.get(key) and a and a.get("cpu_ms"):
                split.append((f"{call} ({SERVER_TEXT[s]})", a["cpu_ms"] * 1000.0, crit[key]["mean_ns"] / 1000.0))
    b1 = report_runs(raw, "batch1-load")
    if crit.get("monitoring/ingest/native_report_1") and b1:
        split.append(("a native report, 1 per POST", median([x["server_cpu_us_per_report"] for x in pick(b1)]),
                      crit["monitoring/ingest/native_report_1"]["mean_ns"] / 1000.0))
    ev_c = crit.get("monitoring/evaluate/10000_alarms_1000_metrics")
    if ev_c and ev and ev.get("cpu_ms_per_virtual_minute"):
        split.append(("a virtual minute of 10,000 alarms", ev["cpu_ms_per_virtual_minute"] * 1000.0,
                      ev_c["mean_ns"] / 1000.0))
    prof = raw.get("profile") or {}
    profiled = [(k, v) for k, v in prof.items() if isinstance(v, dict) and v.get("frames")]
    if not split and not profiled:
        return [f"Profile: {prof['skipped']}.", ""] if prof.get("skipped") else []
    out = ["### Where the time goes", ""]
    if split:
        out += ["The control plane's CPU per unit over HTTP beside the same work in-process (criterion's wall "
                "time): the rest is the endpoint (HTTP, protocol decoding), the journal (a redb transaction made "
                "durable before the answer) and what runs around every call (time steps, retention).", "",
                "| work | over HTTP, control plane CPU | in-process (criterion) | in-process share |",
                "|---|---|---|---|"]
        out += [f"| {what} | {fmt(http_us)} µs | {fmt(core_us)} µs | {core_us / http_us * 100:.0f}% |"
                for what, http_us, core_us in split]
        out += ["", "A share above 100% means the in-process wall time was stretched by the other processes on "
                "the machine (criterion measures wall time; the HTTP column is the control plane's CPU time).", ""]
    if profiled:
        out += ["`perf record --call-graph dwarf` of the control plane under two loads (a fresh `spotlab up` each, "
                "state on disk) and of criterion's evaluation benchmark: each frame's inclusive share of the "
                "process's samples (a frame's share includes what it calls; a row marked ↳ runs inside the "
                "nearest row above it with one mark fewer). perf slows the load; the shares are what to read.", ""]
        for k, v in profiled:
            out += [f"**{k}** ({v['load']}):", "", "| frame | share |", "|---|---|"]
            out += [f"| {'&emsp;' * depth}{'↳ ' * bool(depth)}{label} | {v['frames'][pattern]:.0f}% |"
                    for pattern, label, depth in PROFILE_FRAMES if v["frames"].get(pattern, 0) >= 1.0]
            out.append("")
    return out


def anomalies(raw: dict) -> list[str]:
    dirty = [(rnd["round"], call, s, sub, e[sub]["other_core"]) for rnd in raw.get("rounds", [])
             for call, v in rnd.get("calls", {}).items() for s, e in v.items() for sub in ("c8", "c1")
             if e.get(sub) and not is_clean(e[sub])]
    problems = [(rnd["round"], call, s, e["problem"]) for rnd in raw.get("rounds", [])
                for call, v in rnd.get("calls", {}).items() for s, e in v.items() if e.get("problem")]
    moto_diff = [(rnd["round"], call, c) for rnd in raw.get("rounds", [])
                 for call, c in (rnd.get("stored", {}).get("moto") or {}).items() if not c["exact"]]
    if not (dirty or problems or moto_diff or raw.get("notes")):
        return []
    out = ["## Defects and anomalies", ""]
    out += [f"- Round {rn}, {call} on {s}: {p}" for rn, call, s, p in problems]
    out += [f"- Round {rn}: moto stored a sample count of {fmt(c['stored'])} for {call} where {c['expected']:,} "
            "datums were answered with HTTP 200." for rn, call, c in moto_diff]
    if dirty:
        runs = sum(1 for rnd in raw.get("rounds", []) for v in rnd.get("calls", {}).values() for e in v.values()
                   for sub in ("c8", "c1") if e.get(sub))
        out.append(f"- Other processes used more than {OTHER_LIMIT} of a core during {len(dirty)} of {runs} replay "
                   "runs (marked * in the per-round details; see Machine). Those runs' figures understate the "
                   "server that ran in them, spotlab or moto alike.")
    out += [f"- {n}" for n in raw.get("notes", [])]
    out.append("")
    return out


def commands(raw: dict) -> list[str]:
    out = ["## Commands", "",
           "Ports are free loopback ports picked at run time; `$REPO` is the clone, `$TMP` the run's temporary "
           "directory, `$TMPFS` its directory on tmpfs.", "", "```sh", raw["command"]]
    for k, c in raw.get("commands", {}).items():
        c = c.replace(str(ROOT), "$REPO")
        c = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", c)
        c = re.sub(r"-state-\d+", "-state-N", c)
        out += [f"# {k}", c]
    out += ["```", ""]
    if raw.get("bodies"):
        out += ["<details><summary>The captured request bodies (decompressed when gzipped)</summary>", ""]
        for call, b in raw["bodies"].items():
            text, chars = b["text"], b.get("chars", len(b["text"]))
            shown = text if chars <= 1200 else text[:1200] + f"... ({chars:,} characters in all)"
            out += [f"**{call}** ({b['bytes']:,} bytes on the wire; headers {b['headers']})", "", "```", shown, "```", ""]
        ex = raw.get("report_templates", {}).get("example")
        if ex:
            out += ["**A native report** (from the agent run whose counts and histograms every sent report reuses)",
                    "", "```", json.dumps(ex)[:1500], "```", ""]
        out += ["</details>", ""]
    return out


# --------------------------------------------------------------------------- the page

def write_report(raw: dict, md_path: Path) -> None:
    f = raw["facts"]
    agg = aggregate(raw)
    took = raw.get("took_s")
    lines = ["# Monitoring: `spotlab up`'s CloudWatch against moto", "",
             f"Measured at git {f['git']} on {f['date_utc']}, {f['nproc']} cores"
             + (f" {sharing(raw)}. " if sharing(raw) else ". ") +
             f"Command: `{raw['command']}`" + (f"; took {took / 60:.1f} min." if took else "."), ""]
    lines += goals(raw, agg)
    lines += findings(raw, agg)
    lines += method(raw)
    lines += machine(raw)
    lines += ["## Results", ""]
    lines += replay_tables(raw, agg)
    lines += round_details(raw)
    lines += creation_table(raw)
    lines += reports_table(raw)
    lines += evaluation_table(raw)
    lines += criterion_table(raw)
    lines += time_split(raw, agg)
    lines += anomalies(raw)
    lines += commands(raw)
    md_path.write_text("\n".join(lines))
