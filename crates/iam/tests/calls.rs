//! IAM's calls on the pure service: the stack's flow (a role for EC2 with an inline
//! policy, an instance profile holding it), its teardown in IAM's order, and the errors
//! IAM answers out of order.

use iam::{Iam, IamError};
use serde_json::{Value, json};
use simtime::SimTime;

const ACCOUNT: &str = "123456789012";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]}"#;

fn at(seconds: u64) -> SimTime {
    SimTime::from_millis(1_704_164_645_000 + seconds * 1000)
}

fn ok(iam: &mut Iam, action: &str, input: Value) -> Value {
    iam.call(action, &input, at(0))
        .unwrap_or_else(|e| panic!("{action}: {} {}", e.code(), e.message()))
}

fn code(iam: &mut Iam, action: &str, input: Value) -> &'static str {
    match iam.call(action, &input, at(0)) {
        Ok(answer) => panic!("{action} succeeded: {answer}"),
        Err(error) => error.code(),
    }
}

/// The stack's role and profile, as `spotlab stack up` makes them.
fn stack(iam: &mut Iam) {
    ok(
        iam,
        "CreateRole",
        json!({"RoleName": "spotlab-agent", "AssumeRolePolicyDocument": TRUST,
               "Description": "spotlab agents", "Tags": [{"Key": "app", "Value": "spotlab"}]}),
    );
    ok(
        iam,
        "PutRolePolicy",
        json!({"RoleName": "spotlab-agent", "PolicyName": "agent", "PolicyDocument": POLICY}),
    );
    ok(
        iam,
        "CreateInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent", "Tags": [{"Key": "app", "Value": "spotlab"}]}),
    );
    ok(
        iam,
        "AddRoleToInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent", "RoleName": "spotlab-agent"}),
    );
}

#[test]
fn the_stacks_role_and_profile_read_back_as_iam_shows_them() {
    let mut iam = Iam::new(ACCOUNT);
    let created = iam
        .call(
            "CreateRole",
            &json!({"RoleName": "spotlab-agent", "Path": "/spotlab/", "AssumeRolePolicyDocument": TRUST,
                    "MaxSessionDuration": 7200, "Tags": [{"Key": "app", "Value": "spotlab"}]}),
            at(5),
        )
        .expect("CreateRole");
    let role = &created["Role"];
    assert_eq!(
        role["Arn"],
        "arn:aws:iam::123456789012:role/spotlab/spotlab-agent"
    );
    assert_eq!(role["Path"], "/spotlab/");
    assert_eq!(role["CreateDate"], json!(1_704_164_650));
    assert_eq!(role["MaxSessionDuration"], 7200);
    assert_eq!(role["Tags"], json!([{"Key": "app", "Value": "spotlab"}]));
    let id = role["RoleId"].as_str().expect("RoleId");
    assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
    assert_eq!(
        role["AssumeRolePolicyDocument"],
        json!(iam::url_encode(TRUST))
    );
    let got = ok(&mut iam, "GetRole", json!({"RoleName": "SPOTLAB-AGENT"}));
    assert_eq!(got["Role"]["RoleId"], role["RoleId"]);
    assert_eq!(got["Role"]["RoleLastUsed"], json!({}));

    ok(
        &mut iam,
        "PutRolePolicy",
        json!({"RoleName": "spotlab-agent", "PolicyName": "agent", "PolicyDocument": POLICY}),
    );
    let policy = ok(
        &mut iam,
        "GetRolePolicy",
        json!({"RoleName": "spotlab-agent", "PolicyName": "agent"}),
    );
    assert_eq!(
        policy,
        json!({"RoleName": "spotlab-agent", "PolicyName": "agent", "PolicyDocument": iam::url_encode(POLICY)})
    );
    assert_eq!(
        ok(
            &mut iam,
            "ListRolePolicies",
            json!({"RoleName": "spotlab-agent"})
        ),
        json!({"PolicyNames": ["agent"], "IsTruncated": false})
    );

    let profile = ok(
        &mut iam,
        "CreateInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent"}),
    );
    let profile = &profile["InstanceProfile"];
    assert_eq!(
        profile["Arn"],
        "arn:aws:iam::123456789012:instance-profile/spotlab-agent"
    );
    assert!(
        profile["InstanceProfileId"]
            .as_str()
            .is_some_and(|id| id.starts_with("AIPA") && id.len() == 21)
    );
    assert_eq!(profile["Roles"], json!([]));
    ok(
        &mut iam,
        "AddRoleToInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent", "RoleName": "spotlab-agent"}),
    );
    let got = ok(
        &mut iam,
        "GetInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent"}),
    );
    assert_eq!(got["InstanceProfile"]["Roles"][0]["Arn"], role["Arn"]);
    let for_role = ok(
        &mut iam,
        "ListInstanceProfilesForRole",
        json!({"RoleName": "spotlab-agent"}),
    );
    assert_eq!(
        for_role["InstanceProfiles"][0]["InstanceProfileName"],
        "spotlab-agent"
    );

    ok(
        &mut iam,
        "TagRole",
        json!({"RoleName": "spotlab-agent", "Tags": [{"Key": "APP", "Value": "v2"}, {"Key": "team", "Value": "perf"}]}),
    );
    ok(
        &mut iam,
        "UntagRole",
        json!({"RoleName": "spotlab-agent", "TagKeys": ["team", "absent"]}),
    );
    assert_eq!(
        ok(
            &mut iam,
            "ListRoleTags",
            json!({"RoleName": "spotlab-agent"})
        ),
        json!({"Tags": [{"Key": "APP", "Value": "v2"}], "IsTruncated": false})
    );
    ok(
        &mut iam,
        "TagInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent", "Tags": [{"Key": "a", "Value": "1"}]}),
    );
    ok(
        &mut iam,
        "UntagInstanceProfile",
        json!({"InstanceProfileName": "spotlab-agent", "TagKeys": ["b"]}),
    );
    assert_eq!(
        ok(
            &mut iam,
            "ListInstanceProfileTags",
            json!({"InstanceProfileName": "spotlab-agent"})
        ),
        json!({"Tags": [{"Key": "a", "Value": "1"}], "IsTruncated": false})
    );
}

#[test]
fn teardown_goes_in_iams_order_and_out_of_order_is_refused() {
    let mut iam = Iam::new(ACCOUNT);
    stack(&mut iam);
    let arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM";
    ok(
        &mut iam,
        "AttachRolePolicy",
        json!({"RoleName": "spotlab-agent", "PolicyArn": arn}),
    );
    assert_eq!(
        ok(
            &mut iam,
            "ListAttachedRolePolicies",
            json!({"RoleName": "spotlab-agent", "PathPrefix": "/service-role/"})
        ),
        json!({"AttachedPolicies": [{"PolicyName": "AmazonEC2RoleforSSM", "PolicyArn": arn}], "IsTruncated": false})
    );

    let delete_role = json!({"RoleName": "spotlab-agent"});
    let delete_profile = json!({"InstanceProfileName": "spotlab-agent"});
    let pair = json!({"InstanceProfileName": "spotlab-agent", "RoleName": "spotlab-agent"});
    assert_eq!(
        code(&mut iam, "DeleteRole", delete_role.clone()),
        "DeleteConflict"
    );
    assert_eq!(
        code(&mut iam, "DeleteInstanceProfile", delete_profile.clone()),
        "DeleteConflict"
    );
    assert_eq!(
        code(&mut iam, "AddRoleToInstanceProfile", pair.clone()),
        "LimitExceeded"
    );
    ok(&mut iam, "RemoveRoleFromInstanceProfile", pair.clone());
    assert_eq!(
        code(&mut iam, "RemoveRoleFromInstanceProfile", pair),
        "NoSuchEntity"
    );
    ok(&mut iam, "DeleteInstanceProfile", delete_profile.clone());
    assert_eq!(
        code(&mut iam, "DeleteRole", delete_role.clone()),
        "DeleteConflict"
    );
    ok(
        &mut iam,
        "DeleteRolePolicy",
        json!({"RoleName": "spotlab-agent", "PolicyName": "agent"}),
    );
    let conflict = iam
        .call("DeleteRole", &delete_role, at(0))
        .expect_err("attached");
    assert_eq!(
        conflict,
        IamError::DeleteConflict(
            "Cannot delete entity, must detach all policies first.".to_owned()
        )
    );
    ok(
        &mut iam,
        "DetachRolePolicy",
        json!({"RoleName": "spotlab-agent", "PolicyArn": arn}),
    );
    ok(&mut iam, "DeleteRole", delete_role.clone());
    assert_eq!(
        code(&mut iam, "DeleteRole", delete_role.clone()),
        "NoSuchEntity"
    );
    assert_eq!(code(&mut iam, "GetRole", delete_role), "NoSuchEntity");
    assert_eq!(
        code(&mut iam, "GetInstanceProfile", delete_profile),
        "NoSuchEntity"
    );
    assert_eq!(
        ok(&mut iam, "ListRoles", json!({})),
        json!({"Roles": [], "IsTruncated": false})
    );
}

#[test]
fn refusals_carry_iams_codes() {
    let mut iam = Iam::new(ACCOUNT);
    stack(&mut iam);
    let again = json!({"RoleName": "SpotLab-Agent", "AssumeRolePolicyDocument": TRUST});
    let error = iam.call("CreateRole", &again, at(0)).expect_err("exists");
    assert_eq!(
        error,
        IamError::EntityAlreadyExists("Role with name SpotLab-Agent already exists.".to_owned())
    );
    assert_eq!(
        code(
            &mut iam,
            "CreateInstanceProfile",
            json!({"InstanceProfileName": "spotlab-agent"})
        ),
        "EntityAlreadyExists"
    );
    assert_eq!(
        code(
            &mut iam,
            "CreateRole",
            json!({"RoleName": "r", "AssumeRolePolicyDocument": "[1]"})
        ),
        "MalformedPolicyDocument"
    );
    assert_eq!(
        code(
            &mut iam,
            "PutRolePolicy",
            json!({"RoleName": "spotlab-agent", "PolicyName": "p", "PolicyDocument": "nope"})
        ),
        "MalformedPolicyDocument"
    );
    assert_eq!(
        code(
            &mut iam,
            "CreateRole",
            json!({"RoleName": "has space", "AssumeRolePolicyDocument": TRUST})
        ),
        "ValidationError"
    );
    assert_eq!(
        code(
            &mut iam,
            "CreateRole",
            json!({"RoleName": "r", "AssumeRolePolicyDocument": TRUST, "MaxSessionDuration": 60})
        ),
        "ValidationError"
    );
    assert_eq!(
        code(&mut iam, "CreateRole", json!({"RoleName": "r"})),
        "ValidationError"
    );
    assert_eq!(
        code(
            &mut iam,
            "GetRolePolicy",
            json!({"RoleName": "spotlab-agent", "PolicyName": "absent"})
        ),
        "NoSuchEntity"
    );
    assert_eq!(
        code(
            &mut iam,
            "AttachRolePolicy",
            json!({"RoleName": "spotlab-agent", "PolicyArn": "not-an-arn-at-all-really"})
        ),
        "InvalidInput"
    );
    assert_eq!(
        code(
            &mut iam,
            "DetachRolePolicy",
            json!({"RoleName": "spotlab-agent", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
        ),
        "NoSuchEntity"
    );
    assert_eq!(
        code(
            &mut iam,
            "AddRoleToInstanceProfile",
            json!({"InstanceProfileName": "absent", "RoleName": "spotlab-agent"})
        ),
        "NoSuchEntity"
    );
    let fifty: Vec<Value> = (0..50)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    assert_eq!(
        code(
            &mut iam,
            "TagRole",
            json!({"RoleName": "spotlab-agent", "Tags": fifty})
        ),
        "LimitExceeded"
    );
    assert_eq!(code(&mut iam, "CreateUser", json!({})), "InvalidAction");
}

#[test]
fn lists_page_by_marker_and_filter_by_path() {
    let mut iam = Iam::new(ACCOUNT);
    for (name, path) in [("c", "/"), ("a", "/spotlab/"), ("b", "/spotlab/")] {
        ok(
            &mut iam,
            "CreateRole",
            json!({"RoleName": name, "Path": path, "AssumeRolePolicyDocument": TRUST}),
        );
        ok(
            &mut iam,
            "CreateInstanceProfile",
            json!({"InstanceProfileName": name, "Path": path}),
        );
    }
    let names = |answer: &Value, list: &str, field: &str| -> Vec<String> {
        answer[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|item| item[field].as_str().expect("name").to_owned())
            .collect()
    };
    let first = ok(&mut iam, "ListRoles", json!({"MaxItems": 2}));
    assert_eq!(names(&first, "Roles", "RoleName"), ["a", "b"]);
    assert_eq!(first["IsTruncated"], true);
    let rest = ok(
        &mut iam,
        "ListRoles",
        json!({"MaxItems": 2, "Marker": first["Marker"]}),
    );
    assert_eq!(names(&rest, "Roles", "RoleName"), ["c"]);
    assert_eq!(rest["IsTruncated"], false);
    assert!(rest.get("Marker").is_none());
    let under = ok(
        &mut iam,
        "ListInstanceProfiles",
        json!({"PathPrefix": "/spotlab/"}),
    );
    assert_eq!(
        names(&under, "InstanceProfiles", "InstanceProfileName"),
        ["a", "b"]
    );
    assert!(first["Roles"][0].get("Tags").is_none());
}

#[test]
fn the_same_calls_make_the_same_ids() {
    let ids = || {
        let mut iam = Iam::new(ACCOUNT);
        stack(&mut iam);
        let role = ok(&mut iam, "GetRole", json!({"RoleName": "spotlab-agent"}));
        let profile = ok(
            &mut iam,
            "GetInstanceProfile",
            json!({"InstanceProfileName": "spotlab-agent"}),
        );
        (
            role["Role"]["RoleId"].clone(),
            profile["InstanceProfile"]["InstanceProfileId"].clone(),
        )
    };
    let (role, profile) = ids();
    assert_eq!(ids(), (role.clone(), profile.clone()));
    assert_ne!(role, profile);
}
