//! Instances as processes, seen from outside: each one's metadata service over HTTP
//! (IMDSv1 and IMDSv2 sessions, TTLs, refusals), its notice through the fault API, and
//! hibernation freezing its process group (SIGSTOP) until it resumes (SIGCONT).

mod support;

use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    RequestLaunchTemplateData, SpotInstanceInterruptionBehavior, SpotOptionsRequest,
};
use base64::Engine as _;
use support::Cloud;

/// A cloud without natural interruptions, and its client.
struct Harness {
    cloud: Cloud,
    ec2: Client,
}

async fn cloud(scale: u32) -> Harness {
    let cloud = Cloud::start(scale, 5, |config| config.interruption_scale = 0.0).await;
    let ec2 = cloud.client("k", "s");
    Harness { cloud, ec2 }
}

/// One instance from a fleet of one, running `script`; returns its id.
async fn one_instance(
    cloud: &Harness,
    name: &str,
    script: &str,
    tokens_required: bool,
    behavior: SpotInstanceInterruptionBehavior,
) -> String {
    let mut data = RequestLaunchTemplateData::builder()
        .image_id("ami-1")
        .user_data(base64::engine::general_purpose::STANDARD.encode(script));
    if tokens_required {
        data = data.metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .build(),
        );
    }
    let lt = support::template(&cloud.ec2, name, data.build()).await;
    let fleet_id = support::t2_small_fleet(
        &cloud.ec2,
        &lt,
        1,
        Some(
            SpotOptionsRequest::builder()
                .instance_interruption_behavior(behavior)
                .build(),
        ),
    )
    .await;
    for _ in 0..500 {
        let out = cloud
            .ec2
            .describe_fleet_instances()
            .fleet_id(&fleet_id)
            .send()
            .await
            .expect("fleet instances");
        if let Some(id) = out.active_instances().first().and_then(|i| i.instance_id()) {
            return id.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the fleet never launched");
}

/// Waits for the instance's console to show `key=value` and returns the value.
async fn console_value(cloud: &Harness, id: &str, key: &str) -> String {
    for _ in 0..500 {
        let out = cloud
            .ec2
            .get_console_output()
            .instance_id(id)
            .send()
            .await
            .expect("console");
        let text = out
            .output()
            .and_then(|o| base64::engine::general_purpose::STANDARD.decode(o).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        if let Some(value) = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
        {
            return value.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{key} never appeared on {id}'s console");
}

async fn interrupt(cloud: &Harness, id: &str) {
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/spotlab/v1/faults",
            cloud.cloud.running.addr
        ))
        .json(&serde_json::json!({"action": "interrupt", "targets": {"instances": [id]}}))
        .send()
        .await
        .expect("fault API");
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap_or_default()
    );
}

const SCRIPT: &str =
    "#!/bin/sh\necho \"imds=$AWS_EC2_METADATA_SERVICE_ENDPOINT pid=$$\"\nexec sleep 600\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_instance_has_its_own_metadata_service_with_imdsv2_sessions() {
    let cloud = cloud(60).await;
    let id = one_instance(
        &cloud,
        "imds-v1",
        SCRIPT,
        false,
        SpotInstanceInterruptionBehavior::Terminate,
    )
    .await;
    let imds = console_value(&cloud, &id, "imds").await;
    let imds = imds.trim_end_matches('/').to_owned();
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut request = http.get(format!("{imds}{path}"));
        if let Some(token) = token {
            request = request.header("X-aws-ec2-metadata-token", token);
        }
        request.send()
    };

    // IMDSv1 is allowed by default.
    let v1 = get("/latest/meta-data/instance-id", None)
        .await
        .expect("get");
    assert_eq!(v1.status(), 200);
    assert_eq!(v1.text().await.expect("body"), id);

    // Token requests: TTL required and bounded, no proxies, only the one path.
    let put = |path: &str, ttl: Option<&str>, forwarded: bool| {
        let mut request = http.put(format!("{imds}{path}"));
        if let Some(ttl) = ttl {
            request = request.header("X-aws-ec2-metadata-token-ttl-seconds", ttl);
        }
        if forwarded {
            request = request.header("X-Forwarded-For", "10.0.0.1");
        }
        request.send()
    };
    assert_eq!(
        put("/latest/api/token", None, false)
            .await
            .expect("put")
            .status(),
        400
    );
    assert_eq!(
        put("/latest/api/token", Some("0"), false)
            .await
            .expect("put")
            .status(),
        400
    );
    assert_eq!(
        put("/latest/api/token", Some("21601"), false)
            .await
            .expect("put")
            .status(),
        400
    );
    assert_eq!(
        put("/latest/api/token", Some("60"), true)
            .await
            .expect("put")
            .status(),
        403
    );
    assert_eq!(
        put("/2021-03-23/api/token", Some("60"), false)
            .await
            .expect("put")
            .status(),
        403
    );
    let issued = put("/latest/api/token", Some("21600"), false)
        .await
        .expect("put");
    assert_eq!(issued.status(), 200);
    assert_eq!(
        issued.headers()["x-aws-ec2-metadata-token-ttl-seconds"],
        "21600"
    );
    let token = issued.text().await.expect("token");

    let with_token = get("/latest/meta-data/instance-type", Some(&token))
        .await
        .expect("get");
    assert_eq!(with_token.status(), 200);
    assert!(
        with_token
            .headers()
            .contains_key("x-aws-ec2-metadata-token-ttl-seconds")
    );
    assert_eq!(with_token.text().await.expect("body"), "t2.small");
    let bogus = get("/latest/meta-data/instance-id", Some("not-a-token"))
        .await
        .expect("get");
    assert_eq!(bogus.status(), 401);
    let short = put("/latest/api/token", Some("1"), false)
        .await
        .expect("put");
    let short = short.text().await.expect("token");
    tokio::time::sleep(Duration::from_millis(100)).await; // 6 virtual seconds
    let expired = get("/latest/meta-data/instance-id", Some(&short))
        .await
        .expect("get");
    assert_eq!(
        expired.status(),
        401,
        "a token expires after its TTL (virtual time)"
    );

    let lifecycle = get("/latest/meta-data/instance-life-cycle", Some(&token))
        .await
        .expect("get");
    assert_eq!(lifecycle.text().await.expect("body"), "spot");
    let zone = get(
        "/latest/meta-data/placement/availability-zone",
        Some(&token),
    )
    .await
    .expect("get");
    assert_eq!(zone.text().await.expect("body"), "us-east-1a");
    let user_data = get("/latest/user-data", Some(&token)).await.expect("get");
    assert_eq!(user_data.text().await.expect("body"), SCRIPT);
    let document = get("/latest/dynamic/instance-identity/document", Some(&token))
        .await
        .expect("get");
    let document: serde_json::Value = document.json().await.expect("json");
    assert_eq!(document["instanceId"], id.as_str());
    assert_eq!(document["region"], "us-east-1");

    // The notice: 404 until given, then AWS's JSON.
    let before = get("/latest/meta-data/spot/instance-action", Some(&token))
        .await
        .expect("get");
    assert_eq!(before.status(), 404);
    assert!(
        before
            .text()
            .await
            .expect("body")
            .contains("404 - Not Found")
    );
    interrupt(&cloud, &id).await;
    let after = get("/latest/meta-data/spot/instance-action", Some(&token))
        .await
        .expect("get");
    assert_eq!(after.status(), 200);
    let notice: serde_json::Value = after.json().await.expect("json");
    assert_eq!(notice["action"], "terminate");
    assert!(notice["time"].as_str().is_some_and(|t| t.ends_with('Z')));

    // A template that requires tokens refuses IMDSv1.
    let strict = one_instance(
        &cloud,
        "imds-v2",
        SCRIPT,
        true,
        SpotInstanceInterruptionBehavior::Terminate,
    )
    .await;
    let strict_imds = console_value(&cloud, &strict, "imds").await;
    let refused = http
        .get(format!("{}latest/meta-data/instance-id", strict_imds))
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), 401);

    cloud.cloud.stop().await;
}

fn process_state(pid: &str) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hibernation_freezes_the_process_group_until_the_fleet_resumes_the_instance() {
    let cloud = cloud(10).await;
    let id = one_instance(
        &cloud,
        "hibernating",
        SCRIPT,
        false,
        SpotInstanceInterruptionBehavior::Hibernate,
    )
    .await;
    let pid = console_value(&cloud, &id, "pid").await;
    assert!(matches!(process_state(&pid), Some('S' | 'R')));
    interrupt(&cloud, &id).await;
    let mut frozen = false;
    for _ in 0..500 {
        if process_state(&pid) == Some('T') {
            frozen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        frozen,
        "the hibernating instance's processes are stopped (SIGSTOP)"
    );
    // The fleet replaced it; once stopped, it stays frozen until the fleet needs it again.
    let mut stopped = false;
    for _ in 0..500 {
        let out = cloud
            .ec2
            .describe_instances()
            .instance_ids(&id)
            .send()
            .await
            .expect("describe");
        let state = out.reservations()[0].instances()[0]
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_owned());
        if state.as_deref() == Some("stopped") {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped, "the hibernating instance reaches stopped");
    assert_eq!(process_state(&pid), Some('T'));
    let running = cloud
        .ec2
        .describe_instances()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .send()
        .await
        .expect("describe");
    let replacement = running.reservations()[0].instances()[0]
        .instance_id()
        .expect("replacement")
        .to_owned();
    assert_ne!(replacement, id);
    cloud
        .ec2
        .terminate_instances()
        .instance_ids(&replacement)
        .send()
        .await
        .expect("terminate the replacement");
    let mut resumed = false;
    for _ in 0..1_000 {
        if matches!(process_state(&pid), Some('S' | 'R')) {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = cloud
        .ec2
        .describe_instances()
        .send()
        .await
        .expect("describe");
    let states: Vec<(String, String)> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            (
                i.instance_id().unwrap_or_default().to_owned(),
                i.state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        resumed,
        "the same processes continue (SIGCONT) when the instance resumes: {:?} {states:?}",
        process_state(&pid)
    );
    let out = cloud
        .ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("describe");
    let state = out.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_owned());
    assert!(
        matches!(state.as_deref(), Some("pending" | "running")),
        "{state:?}"
    );
    cloud.cloud.stop().await;
}

/// Termination sends SIGTERM and waits before SIGKILL: 10 virtual seconds, but never
/// less than a few real seconds, so a process can finish its shutdown (an agent's last
/// report and checkpoint) however fast virtual time runs. At time scale 600 the virtual
/// grace is 17 real milliseconds; this script needs a real second after its SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_instance_has_real_time_to_finish_its_shutdown() {
    let cloud = cloud(600).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("drained");
    let script = format!(
        "#!/bin/sh\ntrap 'sleep 1; echo drained > {}; exit 0' TERM\necho pid=$$\nwhile :; do sleep 0.05; done\n",
        marker.display()
    );
    let id = one_instance(
        &cloud,
        "slow-shutdown",
        &script,
        false,
        SpotInstanceInterruptionBehavior::Terminate,
    )
    .await;
    let pid = console_value(&cloud, &id, "pid").await;
    cloud
        .ec2
        .terminate_instances()
        .instance_ids(&id)
        .send()
        .await
        .expect("terminate");
    let mut finished = false;
    for _ in 0..500 {
        if marker.exists() && process_state(&pid).is_none() {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        finished,
        "the process finished its SIGTERM handler before it was killed"
    );
    cloud.cloud.stop().await;
}
