# The walkthrough's test script, as its README describes it: one thread per CPU, each
# calling the target service at 1 request per second and publishing a Success and an
# Error metric to CloudWatch with boto3 after every call (values 1/0 or 0/1, namespace
# ReInvent-EC2SpotTestDev-Metrics, no dimensions, no timestamp), forever. Plain boto3 and
# urllib: nothing here knows about spotlab; the endpoint and region come from the
# standard AWS environment variables, the target URL from the first argument.
import multiprocessing
import sys
import threading
import time
import urllib.error
import urllib.request

import boto3

NAMESPACE = "ReInvent-EC2SpotTestDev-Metrics"


def call(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def worker(url):
    cloudwatch = boto3.client("cloudwatch")
    while True:
        started = time.time()
        ok = call(url)
        cloudwatch.put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {"MetricName": "Success", "Value": 1 if ok else 0},
                {"MetricName": "Error", "Value": 0 if ok else 1},
            ],
        )
        time.sleep(max(0.0, 1.0 - (time.time() - started)))


if __name__ == "__main__":
    url = sys.argv[1]
    threads = [
        threading.Thread(target=worker, args=(url,), daemon=True)
        for _ in range(multiprocessing.cpu_count())
    ]
    for thread in threads:
        thread.start()
    print(f"testing {url} with {len(threads)} threads", flush=True)
    for thread in threads:
        thread.join()
