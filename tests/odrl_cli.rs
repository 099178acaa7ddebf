//! `clearinghouse odrl eval` and `odrl check` as a policy author runs them, on the shipped
//! templates in `policies/odrl/`: the decision and its explanation as JSON (permit, deny,
//! not-applicable; exit status 0 whatever the decision), every validation problem with its
//! JSON path (exit status 1), and unreadable input named on stderr.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::run_cli;
use serde_json::{Value, json};

fn template(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("policies/odrl")
        .join(name)
        .display()
        .to_string()
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.display().to_string()
}

const DATASET: &str = "https://data.example-territoire.fr/dataset/DATASET_ID";

/// `odrl eval` on `policy` with `request`: (exit code, parsed stdout, stderr).
fn eval(policy: &str, request: &str) -> (i32, Value, String) {
    let (code, stdout, stderr) = run_cli(
        &["odrl", "eval", "--policy", policy, "--request", request],
        &[],
    );
    let output = if code == 0 {
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
    } else {
        Value::Null
    };
    (code, output, stderr)
}

#[test]
fn eval_permit_deny_not_applicable() {
    let dir = tempfile::tempdir().unwrap();
    let policy = template("time-limited.json");
    let request = |date: &str, target: &str| {
        json!({"action": "use", "target": target, "assignee": "urn:siren:CONSUMER_SIREN",
               "context": {"dateTime": date}})
    };

    let permit = write(
        dir.path(),
        "permit.json",
        &request("2025-03-01T10:00:00Z", DATASET),
    );
    let (code, output, stderr) = eval(&policy, &permit);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(output["decision"], "permit", "{output:#}");
    assert!(!output["reason"].as_str().unwrap().is_empty(), "{output:#}");

    // After the contract period: denied, and the explanation names the failing constraint.
    let deny = write(
        dir.path(),
        "deny.json",
        &request("2026-01-15T10:00:00Z", DATASET),
    );
    let (code, output, stderr) = eval(&policy, &deny);
    assert_eq!(
        code, 0,
        "the decision is in the output, not the exit status: {stderr}"
    );
    assert_eq!(output["decision"], "deny", "{output:#}");
    let explanation = output.to_string();
    assert!(explanation.contains("dateTime"), "{output:#}");

    // No rule about this target: not applicable.
    let elsewhere = write(
        dir.path(),
        "other.json",
        &request(
            "2025-03-01T10:00:00Z",
            "https://data.example-territoire.fr/dataset/OTHER",
        ),
    );
    let (code, output, stderr) = eval(&policy, &elsewhere);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(output["decision"], "not-applicable", "{output:#}");

    // The same decisions through the library function the command wraps.
    for (file, decision) in [
        (&permit, "permit"),
        (&deny, "deny"),
        (&elsewhere, "not-applicable"),
    ] {
        let report = clearinghouse::odrl::eval_files(Path::new(&policy), Path::new(file)).unwrap();
        assert_eq!(report["decision"], decision);
    }

    // A count-limited template: the 100th use is allowed, the 101st is not.
    let policy = template("count-limited.json");
    let source: Value = serde_json::from_str(&std::fs::read_to_string(&policy).unwrap()).unwrap();
    let target = source["permission"][0]["target"]
        .as_str()
        .unwrap()
        .to_owned();
    for (count, decision) in [(99, "permit"), (100, "deny")] {
        let file = write(
            dir.path(),
            &format!("count-{count}.json"),
            &json!({"action": "use", "target": target, "assignee": "urn:siren:CONSUMER_SIREN",
                    "context": {"count": count}}),
        );
        let (code, output, stderr) = eval(&policy, &file);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(output["decision"], decision, "count {count}: {output:#}");
    }
}

#[test]
fn eval_refuses_bad_input_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let request = write(
        dir.path(),
        "request.json",
        &json!({"action": "use", "target": DATASET}),
    );
    let missing = dir.path().join("missing.json").display().to_string();
    let (code, stdout, stderr) = run_cli(
        &["odrl", "eval", "--policy", &missing, "--request", &request],
        &[],
    );
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("missing.json"), "{stderr}");

    let not_json = dir.path().join("broken.json");
    std::fs::write(&not_json, "{\"permission\": [").unwrap();
    let (code, _, stderr) = run_cli(
        &[
            "odrl",
            "eval",
            "--policy",
            not_json.to_str().unwrap(),
            "--request",
            &request,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("broken.json") && stderr.contains("not JSON"),
        "{stderr}"
    );

    // A request without an action is refused, whatever the policy.
    let no_action = write(dir.path(), "no-action.json", &json!({"target": DATASET}));
    let (code, _, stderr) = run_cli(
        &[
            "odrl",
            "eval",
            "--policy",
            &template("time-limited.json"),
            "--request",
            &no_action,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("request"), "{stderr}");
}

#[test]
fn check_every_template_and_a_broken_policy() {
    let dir =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/odrl")).unwrap();
    let mut checked = 0;
    for file in dir {
        let path = file.unwrap().path();
        let (code, stdout, stderr) =
            run_cli(&["odrl", "check", "--policy", path.to_str().unwrap()], &[]);
        assert_eq!(code, 0, "{}: {stdout}{stderr}", path.display());
        assert!(stdout.starts_with("ok  "), "{stdout}");
        assert!(stdout.contains("is a valid ODRL policy"), "{stdout}");
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} templates");
    let (_, stdout, _) = run_cli(
        &["odrl", "check", "--policy", &template("time-limited.json")],
        &[],
    );
    assert!(
        stdout.contains("(1 permissions, 0 prohibitions, 0 obligations)"),
        "{stdout}"
    );

    // Two mistakes in the time-limited template: an unknown operator, a missing action.
    let tmp = tempfile::tempdir().unwrap();
    let mut policy: Value =
        serde_json::from_str(&std::fs::read_to_string(template("time-limited.json")).unwrap())
            .unwrap();
    policy["permission"][0]["constraint"][0]["operator"] = json!("gteqq");
    policy["permission"][0]
        .as_object_mut()
        .unwrap()
        .remove("action");
    let broken = write(tmp.path(), "broken.json", &policy);
    let (code, stdout, stderr) = run_cli(&["odrl", "check", "--policy", &broken], &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(failures.len(), 2, "{stdout}");
    assert!(
        failures
            .iter()
            .any(|l| l.contains("permission[0].constraint[0].operator") && l.contains("gteqq")),
        "{stdout}"
    );
    assert!(
        failures
            .iter()
            .any(|l| l.contains("permission[0]") && l.contains("action")),
        "{stdout}"
    );

    // Not JSON at all.
    let not_json = tmp.path().join("text.json");
    std::fs::write(&not_json, "permission: use").unwrap();
    let (code, _, stderr) = run_cli(
        &["odrl", "check", "--policy", not_json.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("text.json is not JSON"), "{stderr}");
}
