//! IAM calls as region commands: only successful writes are marked as changed, the
//! journal's form of a command reads back as the same command, and replaying the
//! changed commands at their times on a new region rebuilds the same IAM (same ids,
//! same creation dates, same answers), as `controlplane::recover` does after a restart.

use region::ec2::CloudConfig;
use region::{Command, Region, RegionConfig};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn config() -> RegionConfig {
    RegionConfig {
        ec2: CloudConfig::new(7, SimTime::parse("2026-05-01T00:00:00Z").expect("time")),
        endpoint_url: "http://127.0.0.1:4747/".to_owned(),
    }
}

fn iam(action: &str, input: Value) -> Command {
    Command::Iam {
        action: action.to_owned(),
        input,
    }
}

fn answer(region: &mut Region, command: &Command) -> Value {
    match region.apply(command) {
        Ok(value) => value,
        Err(error) => json!({"code": error.code(), "message": error.message()}),
    }
}

#[test]
fn iam_writes_are_journaled_and_replay_to_the_same_iam() {
    let calls = [
        (
            iam(
                "CreateRole",
                json!({"RoleName": "agent", "AssumeRolePolicyDocument": TRUST}),
            ),
            true,
        ),
        (iam("GetRole", json!({"RoleName": "agent"})), false),
        // Refused: the document is not a JSON object.
        (
            iam(
                "PutRolePolicy",
                json!({"RoleName": "agent", "PolicyName": "p", "PolicyDocument": "[]"}),
            ),
            false,
        ),
        (
            iam(
                "CreateInstanceProfile",
                json!({"InstanceProfileName": "agent"}),
            ),
            true,
        ),
        (
            iam(
                "AddRoleToInstanceProfile",
                json!({"InstanceProfileName": "agent", "RoleName": "agent"}),
            ),
            true,
        ),
        // Refused: the role is in the profile.
        (iam("DeleteRole", json!({"RoleName": "agent"})), false),
    ];
    let mut live = Region::new(config());
    let mut journal = Vec::new();
    let mut answers = Vec::new();
    for (i, (command, changes)) in calls.iter().enumerate() {
        live.advance_to(live.now() + SimDuration::from_secs(30 * (i as u64 + 1)));
        let at = live.now();
        let (result, changed) = live.apply_and_tell(command);
        assert_eq!(changed, *changes, "{}: {result:?}", command.describe());
        if changed {
            let text = serde_json::to_string(command).expect("journal form");
            let read: Command = serde_json::from_str(&text).expect("reads back");
            assert_eq!(&read, command);
            journal.push((at, read));
            answers.push(result.expect("a change is a success"));
        }
    }

    let mut rebuilt = Region::new(config());
    for ((at, command), original) in journal.iter().zip(&answers) {
        rebuilt.advance_to(*at);
        assert_eq!(
            &answer(&mut rebuilt, command),
            original,
            "{}",
            command.describe()
        );
    }
    for read in [
        iam("GetRole", json!({"RoleName": "agent"})),
        iam(
            "GetInstanceProfile",
            json!({"InstanceProfileName": "agent"}),
        ),
        iam("ListInstanceProfilesForRole", json!({"RoleName": "agent"})),
    ] {
        assert_eq!(answer(&mut rebuilt, &read), answer(&mut live, &read));
    }
    let role = answer(&mut rebuilt, &iam("GetRole", json!({"RoleName": "agent"})));
    assert_eq!(role["Role"]["CreateDate"], json!(1_777_593_630));
}
