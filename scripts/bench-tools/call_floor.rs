//! `call-floor` (an example target, run by `scripts/bench --only floor`): the CPU one AWS
//! call costs the grader, against a canned endpoint (`canned_aws.py`) rather than moto, so
//! the caller's own cost is all that is measured.
//!
//! `call-floor ENDPOINT [CALLS]` prints one JSON object a line: for each of the grader's SDK
//! calls (configured as the grader configures them) and for a minimal signed call (reqwest
//! and SigV4, no SDK) of the same ECS request, the CPU and wall time per call with one and
//! with 32 calls in flight; then what building an SDK client costs, and what a 20 ms sleep
//! with no call costs, in tokio and in a bare thread (on a virtual machine, being woken is
//! not free).
//!
//! It runs on a current-thread runtime, as `grader cohort` does.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;

/// The process's CPU time so far (user and system, every thread), in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Runs `calls` calls made by `call`, `in_flight` at a time, and prints CPU and wall per call.
async fn measure<F, Fut>(what: &str, calls: usize, in_flight: usize, call: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    // Warm up: connections, credentials and lazily built state are not the call's cost.
    futures::stream::iter(0..in_flight.max(16)).map(|_| call()).buffer_unordered(in_flight).for_each(|_| async {}).await;
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    futures::stream::iter(0..calls).map(|_| call()).buffer_unordered(in_flight).for_each(|_| async {}).await;
    let per = |total: f64| total * 1e6 / calls as f64;
    println!(
        "{}",
        serde_json::json!({"what": what, "in_flight": in_flight, "cpu_us": per(cpu_seconds() - cpu), "wall_us": per(wall.elapsed().as_secs_f64())})
    );
}

/// ECS DescribeClusters without the SDK: a SigV4-signed POST through reqwest, JSON parsed
/// by serde_json. What any client must at least do for one call.
async fn minimal_describe_clusters(http: &reqwest::Client, endpoint: &str, identity: &aws_smithy_runtime_api::client::identity::Identity) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let body = br#"{"clusters":["fargate-lab"]}"#;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region("us-east-1")
        .name("ecs")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("complete signing parameters")
        .into();
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "AmazonEC2ContainerServiceV20141113.DescribeClusters"), ("host", host)];
    let signable = SignableRequest::new("POST", endpoint, headers.iter().copied(), SignableBody::Bytes(body)).expect("a signable request");
    let (instructions, _) = sign(signable, &params).expect("signing").into_parts();
    let mut request = http.post(endpoint).header(headers[0].0, headers[0].1).header(headers[1].0, headers[1].1);
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    let answer: serde_json::Value = request.body(body.to_vec()).send().await.expect("an answer").json().await.expect("JSON");
    assert!(answer["failures"].is_array(), "unexpected answer: {answer}");
}

async fn run(endpoint: &str, calls: usize) {
    let options = grader::aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        fallback_region: "us-east-1".into(),
        ..Default::default()
    };
    let config = grader::aws::load_config(&options).await.expect("the grader's SDK configuration");
    let ecs = aws_sdk_ecs::Client::new(&config);
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let cloudcontrol = aws_sdk_cloudcontrol::Client::new(&config);
    let http = reqwest::Client::builder().no_proxy().build().expect("a plain HTTP client");
    let credentials = aws_credential_types::Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "call-floor");
    let identity = credentials.into();
    for in_flight in [1, 32] {
        measure("sdk ecs:DescribeClusters", calls, in_flight, || async {
            ecs.describe_clusters().clusters("fargate-lab").send().await.expect("DescribeClusters");
        })
        .await;
        measure("sdk ec2:DescribeSecurityGroups", calls, in_flight, || async {
            let filter = aws_sdk_ec2::types::Filter::builder().name("group-name").values("fargate-lab-sg").build();
            ec2.describe_security_groups().filters(filter).send().await.expect("DescribeSecurityGroups");
        })
        .await;
        measure("sdk cloudcontrol:GetResource (not found)", calls, in_flight, || async {
            let answer = cloudcontrol.get_resource().type_name("AWS::SSM::Parameter").identifier("x").send().await;
            assert!(answer.is_err(), "the canned endpoint finds nothing");
        })
        .await;
        measure("minimal ecs:DescribeClusters (reqwest + SigV4, no SDK)", calls, in_flight, || minimal_describe_clusters(&http, endpoint, &identity)).await;
    }
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let (cpu, built) = (cpu_seconds(), calls);
    for i in 0..built {
        let region = aws_config::Region::new(regions[i % regions.len()]);
        drop(aws_sdk_ecs::Client::from_conf(aws_sdk_ecs::config::Builder::from(&config).region(region).build()));
    }
    println!("{}", serde_json::json!({"what": "sdk client construction (ECS, per region)", "in_flight": 1, "cpu_us": (cpu_seconds() - cpu) * 1e6 / built as f64, "wall_us": null}));
    measure("tokio sleep of 20 ms, no call", 100, 1, || tokio::time::sleep(Duration::from_millis(20))).await;
    // The same wait with no runtime at all (the thread sleeps in the kernel): what being woken
    // costs on this machine whatever the program. It blocks the runtime, which has nothing else to do.
    measure("thread sleep of 20 ms, no runtime", 100, 1, || async { std::thread::sleep(Duration::from_millis(20)) }).await;
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(endpoint), calls) = (args.next(), args.next()) else {
        eprintln!("usage: call-floor ENDPOINT [CALLS]");
        std::process::exit(2);
    };
    let calls = calls.map(|c| c.parse().expect("CALLS is a number")).unwrap_or(1000);
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime").block_on(run(&endpoint, calls));
}
