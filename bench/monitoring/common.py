"""What the monitoring benchmark's driver (bench.py) and its report writer (report.py)
share: bench/ec2/bench.py's helpers (processes, oha's JSON, machine accounting), the
names of calls and servers, the goals' bars, and the fixtures. The fixtures are the same
as bench/benches/monitoring.rs's, so the HTTP figures and the in-process ones measure the
same work."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# bench/ec2/bench.py's helpers, loaded by path under another name (this benchmark's
# driver is also called bench.py).
_spec = importlib.util.spec_from_file_location("ec2_bench", ROOT / "bench" / "ec2" / "bench.py")
ec2b = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ec2b)
log, pct, median, worst, fmt = ec2b.log, ec2b.pct, ec2b.median, ec2b.worst, ec2b.fmt
free_port, proc_cpu, machine_cpu = ec2b.free_port, ec2b.proc_cpu, ec2b.machine_cpu
loadavg, mem_available_gib, clean_env = ec2b.loadavg, ec2b.mem_available_gib, ec2b.clean_env
parse_oha, log_summary, rss_mib, verdict = ec2b.parse_oha, ec2b.log_summary, ec2b.rss_mib, ec2b.verdict
PROCS, Server, CLK_TCK = ec2b.PROCS, ec2b.Server, ec2b.CLK_TCK

SECTIONS = ("ingest", "reports", "alarms", "evaluation", "criterion", "profile")
# The side-by-side pair. spotlab keeps its state directory (the journal, made durable
# with fdatasync before each answer) in the run's temporary directory on disk, as a user's
# would be; moto keeps everything in memory.
SERVERS = ("spotlab", "moto")
# spotlab with its state directory on tmpfs, where fdatasync costs nothing: the same
# software without the disk, beside the pair for the calls that are journaled.
TMPFS = "spotlab-tmpfs"
TMPFS_ROOT = Path("/dev/shm")
INGEST_CALLS = ("PutMetricData-20", "PutMetricData-1000")
ALARM_CALLS = ("PutMetricAlarm", "DescribeAlarms-100", "DescribeAlarms-names-100")
CALLS = INGEST_CALLS + ALARM_CALLS

# Goals. The ratio and latency bars are the EC2 benchmark's (bench/EC2.md); the
# evaluation bars are this benchmark's own.
RATIO_GOAL = 10.0         # spotlab ÷ moto throughput
P99_GOAL_MS = 5.0         # spotlab's p99 one call at a time
EVAL_GOAL_60 = 0.10       # 10,000 alarms at time scale 60: under 10% of a core
EVAL_GOAL_1 = 0.01        # ... and at time scale 1: under 1% of a core
REPORTS_CORE_SHARE = 0.10 # agents counted "within 10% of a core", the EC2 benchmark's bar
# A run during which other processes used more than this many cores is marked and, when
# a clean run of the same thing exists, left out.
OTHER_LIMIT = ec2b.OTHER_LIMIT

METRICS = 1_000           # metrics the alarms watch (bench/benches/monitoring.rs: METRICS)
ALARM_KINDS = 10          # alarms per metric
WALKTHROUGH_NS = "ReInvent-EC2SpotTestDev-Metrics"
BIG_NAMES = ("Latency", "TimeToFirstByte", "ConnectTime", "DnsTime", "TlsTime", "QueueTime",
             "ServiceTime", "RetryDelay", "BodyTime", "TotalTime")
INSTANCE_BASE = 0x0BE_0000_0000
# Datapoints one native report becomes: Success, Error, Latency, each for the whole run and
# per FleetId, InstanceId, InstanceType, AvailabilityZone (monitoring/src/native.rs).
SERIES_PER_REPORT = 15


# ------------------------------------------------------------------------ fixtures

def alarm_input(i: int) -> dict:
    """Alarm `i` of 10,000: metric `i % 1000`, kind `i // 1000`."""
    metric, kind = i % METRICS, i // METRICS
    a = {"AlarmName": f"bench-{kind}-host-{metric:04d}", "Namespace": "Bench/Monitoring",
         "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": f"host-{metric:04d}"}],
         "Period": 60, "EvaluationPeriods": 1, "Threshold": 50.0,
         "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "ignore",
         "Statistic": "Average"}
    if kind == 1:
        a.update(Statistic="Sum", EvaluationPeriods=3, DatapointsToAlarm=2,
                 ComparisonOperator="GreaterThanThreshold", TreatMissingData="missing")
    elif kind == 2:
        a.update(Statistic="Maximum", EvaluationPeriods=5, DatapointsToAlarm=3,
                 ComparisonOperator="LessThanThreshold", TreatMissingData="breaching")
    elif kind == 3:
        a.update(Statistic="Minimum", EvaluationPeriods=2,
                 ComparisonOperator="LessThanOrEqualToThreshold", TreatMissingData="notBreaching")
    elif kind == 4:
        a.update(Statistic="SampleCount", Threshold=0.5, ComparisonOperator="GreaterThanThreshold",
                 TreatMissingData="breaching")
    elif kind == 5:
        del a["Statistic"]
        a.update(ExtendedStatistic="p99", EvaluationPeriods=3, ComparisonOperator="GreaterThanThreshold")
    elif kind == 6:
        del a["Statistic"]
        a["ExtendedStatistic"] = "p50"
    elif kind == 7:
        a["Period"] = 300
    elif kind == 8:
        a.update(EvaluationPeriods=10, DatapointsToAlarm=5, TreatMissingData="missing")
    elif kind == 9:
        a.update(Statistic="Sum", Period=120, EvaluationPeriods=2)
    return a


ALARM_KIND_TEXT = [
    "Average ≥ 50 over 1 minute, missing data ignored (the walkthrough's alarm shape)",
    "Sum > 50, 2 of 3 minutes, missing",
    "Maximum < 50, 3 of 5 minutes, breaching",
    "Minimum ≤ 50, 2 of 2 minutes, notBreaching",
    "SampleCount > 0.5, 1 minute, breaching",
    "p99 > 50, 3 of 3 minutes, ignore",
    "p50 ≥ 50, 1 minute, ignore",
    "Average ≥ 50 over a 300 s period",
    "Average ≥ 50, 5 of 10 minutes, missing",
    "Sum ≥ 50 over a 120 s period, 2 of 2",
]


def feed_input() -> dict:
    """One datum for each of the 1,000 metrics: metric m gets m % 100."""
    return {"Namespace": "Bench/Monitoring", "MetricData": [
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": f"host-{m:04d}"}],
         "Value": float(m % 100), "Unit": "Milliseconds"} for m in range(METRICS)]}


def walkthrough_put_input() -> dict:
    """The walkthrough's call: 20 datums alternating Success 1 / Error 0 (a good
    minute), no timestamp, no dimensions."""
    return {"Namespace": WALKTHROUGH_NS, "MetricData": [
        {"MetricName": "Success", "Value": 1.0} if i % 2 == 0 else {"MetricName": "Error", "Value": 0.0}
        for i in range(20)]}


def big_put_input() -> dict:
    """1,000 datums over 10 metric names and 100 instances, 10 values each with counts."""
    data = []
    for i in range(1000):
        data.append({
            "MetricName": BIG_NAMES[i % len(BIG_NAMES)],
            "Dimensions": [{"Name": "InstanceId", "Value": f"i-{INSTANCE_BASE + i // 10:017x}"},
                           {"Name": "AvailabilityZone", "Value": "us-east-1a" if i % 2 == 0 else "us-east-1b"}],
            "Values": [float((i * 7 + j * 13) % 500) + 0.5 for j in range(10)],
            "Counts": [float((i + j) % 5 + 1) for j in range(10)],
            "Unit": "Milliseconds"})
    return {"Namespace": "Bench/Ingest", "MetricData": data}


# The series each call's stored sample count is checked on, and the samples one call
# adds to it: the walkthrough's Success (10 datums of 1), and the large call's datum 0
# (Latency of instance 0 in us-east-1a, the only datum of that series; its Counts sum to 30).
WALKTHROUGH_CHECK = {"Namespace": WALKTHROUGH_NS, "MetricName": "Success"}
WALKTHROUGH_CHECK_SAMPLES = 10
BIG_CHECK = {"Namespace": "Bench/Ingest", "MetricName": "Latency",
             "Dimensions": [{"Name": "InstanceId", "Value": f"i-{INSTANCE_BASE:017x}"},
                            {"Name": "AvailabilityZone", "Value": "us-east-1a"}]}
BIG_CHECK_SAMPLES = int(sum(big_put_input()["MetricData"][0]["Counts"]))


# Frames whose inclusive share of the profiled process's CPU the profile section reports:
# (substring of perf's symbol name, label, depth). A frame at depth d runs inside the
# nearest frame above it at depth d - 1.
PROFILE_FRAMES = (
    ("monitoring::service::Monitoring::advance_to", "`Monitoring::advance_to`: alarm evaluation, then retention", 0),
    ("watch::metrics::store::Store::expire", "retention (`Store::expire`, visiting only the metrics due)", 1),
    ("watch::alarm::judge", "`watch::alarm::judge`: the decision", 1),
    ("watch::alarm::Judgement::decision",
     "reason text and reason data, for a change of state only (`Judgement::decision`)", 1),
    ("watch::alarm::reason::data", "reason data (`watch::alarm::reason::data`)", 2),
    ("watch::alarm::format::cloudwatch_time", "timestamps formatted (`watch::alarm::format::cloudwatch_time`)", 3),
    ("<monitoring::service::Source as monitoring::cloudwatch::alarms::AlarmData>::prepared_datapoints",
     "the alarm's datapoints (`Source::prepared_datapoints`)", 1),
    ("monitoring::cloudwatch::metrics::Metrics::alarm_series", "the series read (`Metrics::alarm_series`)", 2),
    ("monitoring::cloudwatch::metrics::data::MetricQueries::parse",
     "alarms' queries parsed from JSON (`MetricQueries::parse`, once per PutMetricAlarm)", 0),
    ("controlplane::store::Store::append", "the journal: `controlplane::store::Store::append` (redb commit, fdatasync)", 0),
    ("fdatasync", "fdatasync", 1),
    ("aws_wire::json::decode_input", "JSON 1.0 request decoding: `aws_wire::json::decode_input`", 0),
    ("monitoring::cloudwatch::metrics::Metrics::put_metric_data", "PutMetricData in the core: `Metrics::put_metric_data`", 0),
    ("monitoring::service::Monitoring::ingest_reports", "native reports in the core: `Monitoring::ingest_reports`", 0),
    ("agent_wire::latency::Latency::decode", "histograms decoded: `Latency::decode`", 0),
    ("hdrhistogram::Histogram<T>::new_with_bounds",
     "their counts arrays allocated and zeroed (`Histogram::new_with_bounds`)", 1),
    ("agent_wire::latency::Latency::encode", "histograms encoded: `Latency::encode`", 0),
)

