//! SNS `https` subscriptions: a subscriber on 127.0.0.1 with a self-signed certificate
//! (made here with `openssl`), trusted through `UpConfig::trusted_cas` (`spotlab up
//! --trust-ca`), confirms its subscription over TLS and receives a published message in
//! SNS's envelope. The subscriber is a small Python server (`ssl` module).

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
use support::Cloud;

/// The subscriber: writes its port to `port_file`, appends each POST's message type and
/// body to `log_file` as JSON lines, and confirms subscriptions by visiting the
/// `SubscribeURL` (plain HTTP, the local cloud's endpoint).
const SUBSCRIBER: &str = r#"
import http.server, json, os, ssl, sys, urllib.request
cert, key, port_file, log_file = sys.argv[1:5]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        kind = self.headers.get("x-amz-sns-message-type", "")
        with open(log_file, "a") as out:
            out.write(json.dumps({"type": kind, "body": json.loads(body)}) + "\n")
        if kind == "SubscriptionConfirmation":
            urllib.request.urlopen(json.loads(body)["SubscribeURL"], timeout=10).read()
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as out:
    out.write(str(server.server_address[1]))
os.replace(port_file + ".tmp", port_file)
server.serve_forever()
"#;

struct Subscriber(Child);

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A self-signed certificate for 127.0.0.1, valid for a day: (cert.pem, key.pem).
fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (Debian's openssl package)");
    assert!(status.success(), "openssl made a certificate");
    (cert, key)
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_subscriber_with_a_trusted_self_signed_certificate_gets_its_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = self_signed(dir.path());
    let port_file = dir.path().join("port");
    let log_file = dir.path().join("hook.jsonl");
    let _subscriber = Subscriber(
        Command::new("python3")
            .arg("-c")
            .arg(SUBSCRIBER)
            .arg(&cert)
            .arg(&key)
            .arg(&port_file)
            .arg(&log_file)
            .spawn()
            .expect("python3 runs"),
    );
    let mut port = String::new();
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            port = text;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(!port.is_empty(), "the subscriber started");

    let trusted = cert.clone();
    let cloud = Cloud::start(1, 5, move |config| config.trusted_cas = vec![trusted]).await;
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://{}", cloud.running.addr))
            .credentials_provider(Credentials::new("k", "s", None, None, "test"))
            .build(),
    );
    let topic = sns
        .create_topic()
        .name("alarms")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_owned();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("https")
        .endpoint(format!("https://127.0.0.1:{port}/hook"))
        .send()
        .await
        .expect("subscribe");

    let mut confirmed = false;
    for _ in 0..400 {
        let attributes = sns
            .get_topic_attributes()
            .topic_arn(&topic)
            .send()
            .await
            .expect("attributes");
        if attributes
            .attributes()
            .and_then(|a| a.get("SubscriptionsConfirmed"))
            .is_some_and(|n| n == "1")
        {
            confirmed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        confirmed,
        "the subscriber confirmed over TLS: {:?}",
        lines(&log_file)
    );

    sns.publish()
        .topic_arn(&topic)
        .subject("ALARM")
        .message("over TLS")
        .send()
        .await
        .expect("publish");
    let mut notification = None;
    for _ in 0..400 {
        notification = lines(&log_file)
            .into_iter()
            .find(|line| line["type"] == "Notification");
        if notification.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let notification = notification.expect("the message arrived over TLS");
    assert_eq!(notification["body"]["Message"], "over TLS");
    assert_eq!(notification["body"]["TopicArn"], topic.as_str());
    cloud.stop().await;
}

/// A certificate authority file that is not PEM stops `spotlab up` with a clear error.
#[tokio::test]
async fn an_unreadable_trust_file_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("not-a-cert.pem");
    std::fs::write(&bogus, "hello").expect("write");
    let mut config = controlplane::UpConfig::new(dir.path().join("state"));
    config.listen = Some("127.0.0.1:0".parse().expect("addr"));
    config.trusted_cas = vec![bogus];
    let error = match controlplane::start(config).await {
        Ok(_) => panic!("a start with a bogus certificate authority"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("not-a-cert.pem"), "{error}");
}
