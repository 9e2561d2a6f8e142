//! The files in `deploy/` (issue 23, part 6) start what they say: the example configuration
//! serves, the systemd unit's and the container's command lines are accepted by the real binary
//! with only settings it knows, and `systemd-analyze verify` accepts the unit where the tool is
//! installed. (Building the container needs its base images from a registry this machine cannot
//! reach; the README gives the command.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use cjg_tests::{server_binary, workspace_root, TestServer};

fn deploy(name: &str) -> PathBuf {
    workspace_root().join("deploy").join(name)
}

/// The arguments after the binary in a command line, with the installed config path pointed
/// at the repository's example.
fn arguments_of(command_line: &[String]) -> Vec<String> {
    assert!(command_line[0].ends_with("/cjg-server"), "{command_line:?}");
    command_line[1..]
        .iter()
        .map(|a| {
            if a == "/etc/mijn-cjg/cjg-server.toml" {
                deploy("cjg-server.toml").to_str().unwrap().to_owned()
            } else {
                a.clone()
            }
        })
        .collect()
}

/// Runs the binary as the unit or the container would, on a fresh data directory, for one
/// command (`verify-audit`): the command line and the config it names must be accepted.
fn accepted(args: &[String], env: &[(String, String)]) {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(server_binary());
    command.args(args).arg("verify-audit").env("CJG_DATA_DIR", data.path()).env("RUST_LOG", "error");
    for (k, v) in env {
        if k != "CJG_DATA_DIR" {
            command.env(k, v);
        }
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} {env:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `NAME=value` settings on the lines of `file` that start with `prefix`, each checked to be
/// one the binary reads (its help lists them; `CJG_LOG_FORMAT` is read before the flags).
fn settings_in(file: &str, prefix: &str) -> Vec<(String, String)> {
    let out = Command::new(server_binary()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let env: Vec<(String, String)> = file
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    for (k, _) in &env {
        assert!(k == "CJG_LOG_FORMAT" || help.contains(&format!("env: {k}")), "{k} is not a setting");
    }
    env
}

#[tokio::test]
async fn the_example_configuration_serves() {
    let server = TestServer::start_with(&["--config", deploy("cjg-server.toml").to_str().unwrap()]).unwrap();
    let ready = reqwest::get(format!("{}/v1/ready", server.url)).await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[test]
fn the_systemd_unit_starts_a_command_the_binary_takes() {
    let unit = std::fs::read_to_string(deploy("cjg-server.service")).unwrap();
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    let command_line: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
    let env = settings_in(&unit, "Environment=");
    accepted(&arguments_of(&command_line), &env);

    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(o) if o.status.success() => {
            // The unit as installed, with ExecStart at the binary this test built.
            let dir = tempfile::tempdir().unwrap();
            let copy = dir.path().join("cjg-server.service");
            let real = unit.replace("/usr/local/bin/cjg-server", server_binary().to_str().unwrap());
            std::fs::write(&copy, real).unwrap();
            let out =
                Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&copy).output().unwrap();
            let said =
                format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            let ours: Vec<&str> = said.lines().filter(|l| l.contains("cjg-server.service")).collect();
            assert!(out.status.success() && ours.is_empty(), "systemd-analyze verify: {said}");
        }
        _ => eprintln!("systemd-analyze is not installed: the unit's syntax is not verified here"),
    }
}

#[test]
fn the_container_runs_a_command_the_binary_takes() {
    let file = std::fs::read_to_string(deploy("Containerfile")).unwrap();
    let json_array = |prefix: &str| -> Vec<String> {
        let line = file.lines().find_map(|l| l.strip_prefix(prefix)).unwrap_or_else(|| panic!("{prefix}"));
        serde_json::from_str(line.trim()).unwrap()
    };
    let env = settings_in(&file, "ENV ");
    // The container listens on every address; here a free port on loopback does.
    let env: Vec<(String, String)> = env
        .into_iter()
        .map(|(k, v)| if k == "CJG_LISTEN" { (k, "127.0.0.1:0".into()) } else { (k, v) })
        .collect();
    accepted(&arguments_of(&json_array("CMD ")), &env);
    // What the build copies exists.
    for line in file.lines().filter_map(|l| l.strip_prefix("COPY deploy/")) {
        let name = line.split_whitespace().next().unwrap();
        assert!(deploy(name).exists(), "{name}");
    }
}
