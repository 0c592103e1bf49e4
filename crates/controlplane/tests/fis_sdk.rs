//! The local cloud's FIS driven by aws-sdk-fis (REST-JSON, signed for `fis`), against a
//! control plane started in-process on 127.0.0.1:0, as `spotlab run --aws` drives AWS:
//! an experiment template interrupting two of a fleet's Spot instances by ARN, an
//! experiment started and polled to `completed`, the interruption warnings on the bus
//! and the instances terminated; FIS's refusals with their codes, statuses and typed
//! errors; and the experiment surviving a restart.

mod support;

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, RequestLaunchTemplateData};
use aws_sdk_fis::Client;
use aws_sdk_fis::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_fis::types::{
    CreateExperimentTemplateActionInput, CreateExperimentTemplateStopConditionInput,
    CreateExperimentTemplateTargetInput, ExperimentActionStatus, ExperimentStatus,
};
use serde_json::Value;
use support::{Cloud, refused};

const ROLE: &str = "arn:aws:iam::000000000000:role/spotlab-fis";
const ACTION: &str = "aws:ec2:send-spot-instance-interruptions";
/// Virtual seconds per real second: the 2-minute notice passes in about a second.
const SCALE: u32 = 120;

fn fis_client(addr: std::net::SocketAddr) -> Client {
    Client::from_conf(
        aws_sdk_fis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{addr}"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .build(),
    )
}

fn instance_arn(id: &str) -> String {
    format!("arn:aws:ec2:us-east-1:000000000000:instance/{id}")
}

fn spot_target(arns: &[String]) -> CreateExperimentTemplateTargetInput {
    arns.iter()
        .fold(
            CreateExperimentTemplateTargetInput::builder()
                .resource_type("aws:ec2:spot-instance")
                .selection_mode("ALL"),
            |b, arn| b.resource_arns(arn),
        )
        .build()
        .expect("target")
}

fn interrupt(action_id: &str, duration: &str) -> CreateExperimentTemplateActionInput {
    CreateExperimentTemplateActionInput::builder()
        .action_id(action_id)
        .parameters("durationBeforeInterruption", duration)
        .targets("SpotInstances", "SpotInstances")
        .build()
        .expect("action")
}

fn no_stop_condition() -> CreateExperimentTemplateStopConditionInput {
    CreateExperimentTemplateStopConditionInput::builder()
        .source("none")
        .build()
        .expect("stop condition")
}

/// The ids of the instances in `state`, sorted.
async fn instances(ec2: &aws_sdk_ec2::Client, state: &str) -> Vec<String> {
    let out = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values(state)
                .build(),
        )
        .send()
        .await
        .expect("DescribeInstances");
    let mut ids: Vec<String> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// Polls `check` every 100 ms until it returns a value. The bound only keeps a broken
/// build from hanging: it is minutes of virtual hours, no timing threshold.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    mut check: impl FnMut() -> F,
) -> T {
    for _ in 0..3_000 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the condition never held");
}

/// The instance ids of the interruption warnings on the cloud's bus.
async fn warned(addr: std::net::SocketAddr) -> Vec<String> {
    let text = reqwest::get(format!("http://{addr}/spotlab/v1/events?after=0"))
        .await
        .expect("events")
        .text()
        .await
        .expect("body");
    let mut ids: Vec<String> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|e| e["event"]["detail-type"] == "EC2 Spot Instance Interruption Warning")
        .filter_map(|e| {
            e["event"]["detail"]["instance-id"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

fn ec2_client(addr: std::net::SocketAddr) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("us-east-1"))
            .endpoint_url(format!("http://{addr}"))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_interrupts_two_spot_instances_and_completes() {
    let dir = tempfile::tempdir().expect("state dir");
    let first = support::start_in(dir.path(), SCALE, 41).await;
    let addr = first.addr;
    let ec2 = ec2_client(addr);
    let lt = support::template(
        &ec2,
        "fis-web",
        RequestLaunchTemplateData::builder()
            .image_id("ami-0ff8a91507f77f867")
            .build(),
    )
    .await;
    support::t2_small_fleet(&ec2, &lt, 3, None).await;
    let running = eventually(|| {
        let ec2 = ec2.clone();
        async move {
            let ids = instances(&ec2, "running").await;
            (ids.len() == 3).then_some(ids)
        }
    })
    .await;
    let chosen: Vec<String> = running[..2].to_vec();

    let fis = fis_client(addr);
    let created = fis
        .create_experiment_template()
        .description("interrupt two of three")
        .role_arn(ROLE)
        .targets(
            "SpotInstances",
            spot_target(&chosen.iter().map(|id| instance_arn(id)).collect::<Vec<_>>()),
        )
        .actions("interrupt", interrupt(ACTION, "PT2M"))
        .stop_conditions(no_stop_condition())
        .tags("spotlab:run", "fis-test")
        .send()
        .await
        .expect("CreateExperimentTemplate");
    let template = created.experiment_template().expect("template");
    let template_id = template.id().expect("id").to_owned();
    assert_eq!(template.role_arn(), Some(ROLE));
    assert_eq!(
        template
            .tags()
            .and_then(|t| t.get("spotlab:run"))
            .map(String::as_str),
        Some("fis-test")
    );
    let read = fis
        .get_experiment_template()
        .id(&template_id)
        .send()
        .await
        .expect("GetExperimentTemplate");
    let target = read
        .experiment_template()
        .and_then(|t| t.targets())
        .and_then(|t| t.get("SpotInstances"))
        .expect("target");
    assert_eq!(target.resource_arns().len(), 2);

    let started = fis
        .start_experiment()
        .experiment_template_id(&template_id)
        .tags("spotlab:run", "fis-test")
        .send()
        .await
        .expect("StartExperiment");
    let experiment = started.experiment().expect("experiment");
    let id = experiment.id().expect("id").to_owned();
    assert_eq!(
        experiment.state().and_then(|s| s.status()),
        Some(&ExperimentStatus::Initiating)
    );

    let done = eventually(|| {
        let fis = fis.clone();
        let id = id.clone();
        async move {
            let got = fis
                .get_experiment()
                .id(id)
                .send()
                .await
                .expect("GetExperiment");
            let experiment = got.experiment().expect("experiment").clone();
            let status = experiment.state().and_then(|s| s.status()).cloned();
            assert_ne!(status, Some(ExperimentStatus::Failed), "{experiment:?}");
            (status == Some(ExperimentStatus::Completed)).then_some(experiment)
        }
    })
    .await;
    let action = done
        .actions()
        .and_then(|a| a.get("interrupt"))
        .expect("action");
    assert_eq!(
        action.state().and_then(|s| s.status()),
        Some(&ExperimentActionStatus::Completed)
    );
    let (start, end) = (
        action.start_time().expect("start"),
        action.end_time().expect("end"),
    );
    assert_eq!(
        end.secs() - start.secs(),
        120,
        "the action lasts its duration"
    );
    assert!(done.end_time().is_some());

    assert_eq!(
        warned(addr).await,
        chosen,
        "a warning for each, and no other"
    );
    let terminated = eventually(|| {
        let ec2 = ec2.clone();
        let chosen = chosen.clone();
        async move {
            let gone = instances(&ec2, "terminated").await;
            chosen.iter().all(|id| gone.contains(id)).then_some(gone)
        }
    })
    .await;
    assert!(!terminated.contains(&running[2]), "the third is untouched");

    let listed = fis
        .list_experiments()
        .experiment_template_id(&template_id)
        .send()
        .await
        .expect("ListExperiments");
    assert_eq!(
        listed
            .experiments()
            .iter()
            .filter_map(|e| e.id())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );
    fis.delete_experiment_template()
        .id(&template_id)
        .send()
        .await
        .expect("DeleteExperimentTemplate");
    support::stop(first).await;

    let second = support::start_in(dir.path(), SCALE, 41).await;
    let fis = fis_client(second.addr);
    let again = fis
        .get_experiment()
        .id(&id)
        .send()
        .await
        .expect("GetExperiment after a restart");
    let again = again.experiment().expect("experiment");
    assert_eq!(
        again.state().and_then(|s| s.status()),
        Some(&ExperimentStatus::Completed)
    );
    assert_eq!(again.end_time(), done.end_time());
    let (code, status) = refused(fis.get_experiment_template().id(&template_id).send().await);
    assert_eq!((code.as_str(), status), ("ResourceNotFoundException", 404));
    support::stop(second).await;
}

#[tokio::test]
async fn refusals_carry_fis_codes_statuses_and_typed_errors() {
    let cloud = Cloud::start(1, 42, |_| {}).await;
    let fis = fis_client(cloud.running.addr);
    let arns = [instance_arn("i-0123456789abcdef0")];
    let create = |action: &str, duration: &str| {
        fis.create_experiment_template()
            .description("refused")
            .role_arn(ROLE)
            .targets("SpotInstances", spot_target(&arns))
            .actions("interrupt", interrupt(action, duration))
            .stop_conditions(no_stop_condition())
            .send()
    };
    let bad_action = create("aws:ec2:reboot-instances", "PT2M").await;
    assert!(
        bad_action
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_validation_exception()),
        "{bad_action:?}"
    );
    assert_eq!(refused(bad_action), ("ValidationException".to_owned(), 400));
    for duration in ["PT1M", "PT20M", "two minutes"] {
        assert_eq!(
            refused(create(ACTION, duration).await),
            ("ValidationException".to_owned(), 400),
            "{duration}"
        );
    }

    let unknown = fis.get_experiment_template().id("EXTnope").send().await;
    assert!(
        unknown
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{unknown:?}"
    );
    assert_eq!(
        refused(unknown),
        ("ResourceNotFoundException".to_owned(), 404)
    );
    assert_eq!(
        refused(
            fis.start_experiment()
                .experiment_template_id("EXTnope")
                .send()
                .await
        ),
        ("ResourceNotFoundException".to_owned(), 404)
    );
    assert_eq!(
        refused(fis.stop_experiment().id("EXPnope").send().await),
        ("ResourceNotFoundException".to_owned(), 404)
    );
    let listed = fis
        .list_experiment_templates()
        .send()
        .await
        .expect("ListExperimentTemplates");
    assert!(
        listed.experiment_templates().is_empty(),
        "nothing was created"
    );
    cloud.stop().await;
}

#[tokio::test]
async fn signed_calls_are_verified() {
    let cloud = Cloud::start(1, 43, |config| {
        config.require_auth = Some(aws_wire::sigv4::Credentials {
            access_key_id: "AKIDTEST".to_owned(),
            secret_access_key: "secret".to_owned(),
        });
    })
    .await;
    let fis = fis_client(cloud.running.addr);
    let listed = fis
        .list_experiments()
        .max_results(10)
        .send()
        .await
        .expect("ListExperiments, signed");
    assert!(listed.experiments().is_empty());
    let arn = "arn:aws:fis:us-east-1:000000000000:experiment/EXPnope";
    assert_eq!(
        refused(fis.list_tags_for_resource().resource_arn(arn).send().await),
        ("ResourceNotFoundException".to_owned(), 404),
        "a signed path with an escaped ARN"
    );
    let forged = Client::from_conf(
        aws_sdk_fis::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{}", cloud.running.addr))
            .credentials_provider(Credentials::new("AKIDTEST", "wrong", None, None, "test"))
            .build(),
    );
    let (_, status) = refused(forged.list_experiments().send().await);
    assert_eq!(status, 403);
    cloud.stop().await;
}
