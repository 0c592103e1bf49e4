//! The local cloud's IAM driven by aws-sdk-iam (the query protocol, `Version`
//! 2010-05-08, signed for `iam`), against a control plane started in-process on
//! 127.0.0.1:0: the stack's role and instance profile made, read and torn down in IAM's
//! order, IAM's refusals with their codes, statuses and typed errors, a launch template
//! naming the profile, and the state surviving a restart of the control plane.

mod support;

use aws_sdk_ec2::types::{
    LaunchTemplateIamInstanceProfileSpecificationRequest, RequestLaunchTemplateData,
};
use aws_sdk_iam::Client;
use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iam::types::Tag;
use support::{Cloud, refused};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::spotlab-checkpoints/*"}]}"#;
const ROLE: &str = "spotlab-agent";
const PROFILE: &str = "spotlab-agent";

fn iam_client(addr: std::net::SocketAddr, region: &str) -> Client {
    Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(format!("http://{addr}"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .build(),
    )
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().expect("tag")
}

/// Percent-decodes a policy document as IAM returns it.
fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digit"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// The stack's IAM half, as `spotlab stack up` makes it.
async fn make_stack(iam: &Client) {
    iam.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(TRUST)
        .description("spotlab agents: metrics and checkpoints")
        .max_session_duration(7200)
        .tags(tag("app", "spotlab"))
        .tags(tag("stack", "walkthrough"))
        .send()
        .await
        .expect("CreateRole");
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("agent")
        .policy_document(POLICY)
        .send()
        .await
        .expect("PutRolePolicy");
    iam.create_instance_profile()
        .instance_profile_name(PROFILE)
        .tags(tag("app", "spotlab"))
        .send()
        .await
        .expect("CreateInstanceProfile");
    iam.add_role_to_instance_profile()
        .instance_profile_name(PROFILE)
        .role_name(ROLE)
        .send()
        .await
        .expect("AddRoleToInstanceProfile");
}

#[tokio::test]
async fn the_stacks_role_and_profile_are_made_read_and_torn_down() {
    let cloud = Cloud::start(1, 31, |_| {}).await;
    let iam = iam_client(cloud.running.addr, "us-east-1");
    make_stack(&iam).await;

    let role = iam
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("GetRole");
    let role = role.role().expect("role");
    assert_eq!(role.role_name(), ROLE);
    assert_eq!(role.arn(), "arn:aws:iam::000000000000:role/spotlab-agent");
    assert_eq!(role.path(), "/");
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
    assert_eq!(role.max_session_duration(), Some(7200));
    assert_eq!(
        role.description(),
        Some("spotlab agents: metrics and checkpoints")
    );
    let trust = role.assume_role_policy_document().expect("trust policy");
    assert_eq!(url_decode(trust), TRUST);
    let tags: Vec<(&str, &str)> = role.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("app", "spotlab"), ("stack", "walkthrough")]);

    let policy = iam
        .get_role_policy()
        .role_name(ROLE)
        .policy_name("agent")
        .send()
        .await
        .expect("GetRolePolicy");
    assert_eq!(url_decode(policy.policy_document()), POLICY);
    let names = iam
        .list_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .expect("ListRolePolicies");
    assert_eq!(names.policy_names(), ["agent"]);

    let profile = iam
        .get_instance_profile()
        .instance_profile_name(PROFILE)
        .send()
        .await
        .expect("GetInstanceProfile");
    let profile = profile.instance_profile().expect("profile");
    assert_eq!(
        profile.arn(),
        "arn:aws:iam::000000000000:instance-profile/spotlab-agent"
    );
    assert!(profile.instance_profile_id().starts_with("AIPA"));
    let held: Vec<&str> = profile.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(held, [ROLE]);
    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("ListInstanceProfilesForRole");
    assert_eq!(for_role.instance_profiles().len(), 1);
    let profiles = iam
        .list_instance_profiles()
        .send()
        .await
        .expect("ListInstanceProfiles");
    assert_eq!(profiles.instance_profiles().len(), 1);

    iam.tag_role()
        .role_name(ROLE)
        .tags(tag("owner", "perf"))
        .send()
        .await
        .expect("TagRole");
    iam.untag_role()
        .role_name(ROLE)
        .tag_keys("stack")
        .send()
        .await
        .expect("UntagRole");
    let tags = iam
        .list_role_tags()
        .role_name(ROLE)
        .send()
        .await
        .expect("ListRoleTags");
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["app", "owner"]);
    iam.tag_instance_profile()
        .instance_profile_name(PROFILE)
        .tags(tag("tier", "agents"))
        .send()
        .await
        .expect("TagInstanceProfile");
    iam.untag_instance_profile()
        .instance_profile_name(PROFILE)
        .tag_keys("app")
        .send()
        .await
        .expect("UntagInstanceProfile");
    let tags = iam
        .list_instance_profile_tags()
        .instance_profile_name(PROFILE)
        .send()
        .await
        .expect("ListInstanceProfileTags");
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["tier"]);

    let ssm = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
    iam.attach_role_policy()
        .role_name(ROLE)
        .policy_arn(ssm)
        .send()
        .await
        .expect("AttachRolePolicy");
    let attached = iam
        .list_attached_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    let attached: Vec<(Option<&str>, Option<&str>)> = attached
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name(), p.policy_arn()))
        .collect();
    assert_eq!(
        attached,
        [(Some("AmazonSSMManagedInstanceCore"), Some(ssm))]
    );

    // Teardown, in the only order IAM allows.
    iam.remove_role_from_instance_profile()
        .instance_profile_name(PROFILE)
        .role_name(ROLE)
        .send()
        .await
        .expect("RemoveRoleFromInstanceProfile");
    iam.delete_instance_profile()
        .instance_profile_name(PROFILE)
        .send()
        .await
        .expect("DeleteInstanceProfile");
    iam.delete_role_policy()
        .role_name(ROLE)
        .policy_name("agent")
        .send()
        .await
        .expect("DeleteRolePolicy");
    iam.detach_role_policy()
        .role_name(ROLE)
        .policy_arn(ssm)
        .send()
        .await
        .expect("DetachRolePolicy");
    iam.delete_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("DeleteRole");
    let roles = iam.list_roles().send().await.expect("ListRoles");
    assert!(roles.roles().is_empty());
    assert!(!roles.is_truncated());
    cloud.stop().await;
}

#[tokio::test]
async fn refusals_carry_iams_codes_statuses_and_typed_errors() {
    let cloud = Cloud::start(1, 32, |_| {}).await;
    let iam = iam_client(cloud.running.addr, "us-east-1");
    make_stack(&iam).await;

    let again = iam
        .create_role()
        .role_name(ROLE)
        .assume_role_policy_document(TRUST)
        .send()
        .await;
    assert!(
        again
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_entity_already_exists_exception()),
        "{again:?}"
    );
    assert_eq!(refused(again), ("EntityAlreadyExists".to_owned(), 409));
    let profile_again = iam
        .create_instance_profile()
        .instance_profile_name(PROFILE)
        .send()
        .await;
    assert_eq!(
        refused(profile_again),
        ("EntityAlreadyExists".to_owned(), 409)
    );

    let delete = iam.delete_role().role_name(ROLE).send().await;
    assert!(
        delete
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_delete_conflict_exception()),
        "{delete:?}"
    );
    assert_eq!(refused(delete), ("DeleteConflict".to_owned(), 409));
    let delete_profile = iam
        .delete_instance_profile()
        .instance_profile_name(PROFILE)
        .send()
        .await;
    assert_eq!(refused(delete_profile), ("DeleteConflict".to_owned(), 409));
    let second_role = iam
        .add_role_to_instance_profile()
        .instance_profile_name(PROFILE)
        .role_name(ROLE)
        .send()
        .await;
    assert_eq!(refused(second_role), ("LimitExceeded".to_owned(), 409));

    let missing = iam.get_role().role_name("absent").send().await;
    assert!(
        missing
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_no_such_entity_exception()),
        "{missing:?}"
    );
    assert_eq!(refused(missing), ("NoSuchEntity".to_owned(), 404));
    let missing_policy = iam
        .get_role_policy()
        .role_name(ROLE)
        .policy_name("absent")
        .send()
        .await;
    assert_eq!(refused(missing_policy), ("NoSuchEntity".to_owned(), 404));
    let missing_profile = iam
        .get_instance_profile()
        .instance_profile_name("absent")
        .send()
        .await;
    assert_eq!(refused(missing_profile), ("NoSuchEntity".to_owned(), 404));

    let malformed = iam
        .put_role_policy()
        .role_name(ROLE)
        .policy_name("bad")
        .policy_document("[\"not an object\"]")
        .send()
        .await;
    assert_eq!(
        refused(malformed),
        ("MalformedPolicyDocument".to_owned(), 400)
    );
    let bad_name = iam
        .create_role()
        .role_name("not a valid name")
        .assume_role_policy_document(TRUST)
        .send()
        .await;
    assert_eq!(refused(bad_name), ("ValidationError".to_owned(), 400));
    cloud.stop().await;
}

#[tokio::test]
async fn signed_calls_from_any_region_are_served() {
    let cloud = Cloud::start(1, 33, |config| {
        config.require_auth = Some(aws_wire::sigv4::Credentials {
            access_key_id: "AKIDTEST".to_owned(),
            secret_access_key: "secret".to_owned(),
        });
    })
    .await;
    for region in ["us-east-1", "eu-west-1"] {
        let iam = iam_client(cloud.running.addr, region);
        let roles = iam.list_roles().send().await.expect("ListRoles, signed");
        assert!(roles.roles().is_empty(), "{region}");
    }
    cloud.stop().await;
}

#[tokio::test]
async fn a_launch_template_names_the_instance_profile() {
    let cloud = Cloud::start(1, 34, |_| {}).await;
    let ec2 = cloud.client("AKIDTEST", "secret");
    let arn = "arn:aws:iam::000000000000:instance-profile/spotlab-agent";
    let by_arn = support::template(
        &ec2,
        "by-arn",
        RequestLaunchTemplateData::builder()
            .image_id("ami-0abcdef1234567890")
            .instance_type("t2.small".into())
            .iam_instance_profile(
                LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                    .arn(arn)
                    .build(),
            )
            .build(),
    )
    .await;
    let by_name = support::template(
        &ec2,
        "by-name",
        RequestLaunchTemplateData::builder()
            .image_id("ami-0abcdef1234567890")
            .instance_type("t2.small".into())
            .iam_instance_profile(
                LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                    .name("spotlab-agent")
                    .build(),
            )
            .build(),
    )
    .await;
    for (id, want_arn, want_name) in [
        (by_arn, Some(arn), None),
        (by_name, None, Some("spotlab-agent")),
    ] {
        let versions = ec2
            .describe_launch_template_versions()
            .launch_template_id(&id)
            .send()
            .await
            .expect("DescribeLaunchTemplateVersions");
        let profile = versions
            .launch_template_versions()
            .first()
            .and_then(|v| v.launch_template_data())
            .and_then(|d| d.iam_instance_profile())
            .expect("IamInstanceProfile");
        assert_eq!((profile.arn(), profile.name()), (want_arn, want_name));
    }
    cloud.stop().await;
}

#[tokio::test]
async fn roles_and_profiles_survive_a_restart() {
    let dir = tempfile::tempdir().expect("state dir");
    let first = support::start_in(dir.path(), 1, 35).await;
    let iam = iam_client(first.addr, "us-east-1");
    make_stack(&iam).await;
    let before = iam
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("GetRole");
    let before = before.role().expect("role").clone();
    support::stop(first).await;

    let second = support::start_in(dir.path(), 1, 35).await;
    assert!(second.replayed >= 4, "replayed {}", second.replayed);
    let iam = iam_client(second.addr, "us-east-1");
    let after = iam
        .get_role()
        .role_name(ROLE)
        .send()
        .await
        .expect("GetRole");
    let after = after.role().expect("role");
    assert_eq!(
        (after.role_id(), after.arn(), after.create_date()),
        (before.role_id(), before.arn(), before.create_date())
    );
    let profile = iam
        .get_instance_profile()
        .instance_profile_name(PROFILE)
        .send()
        .await
        .expect("GetInstanceProfile");
    let held: Vec<&str> = profile
        .instance_profile()
        .expect("profile")
        .roles()
        .iter()
        .map(|r| r.role_name())
        .collect();
    assert_eq!(held, [ROLE]);
    let policy = iam
        .get_role_policy()
        .role_name(ROLE)
        .policy_name("agent")
        .send()
        .await
        .expect("GetRolePolicy");
    assert_eq!(url_decode(policy.policy_document()), POLICY);
    support::stop(second).await;
}
