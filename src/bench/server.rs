//! The server under test: this very binary, started as `demo` on the bench's data
//! directory and database in a process of its own, reached over loopback HTTP.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running server process.
pub struct ServerProcess {
    child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Start `demo` on `data_dir`, listening on `address`, with `env` (database URL, raised rate limits, batch size),
    /// and wait until it says where it listens.
    pub async fn start(
        data_dir: &Path,
        address: std::net::SocketAddr,
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating this binary")?;
        let mut command = Command::new(exe);
        command
            .arg("demo")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(address.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().context("starting the server")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(base) = line.trim().strip_prefix("clearinghouse listening on ") {
                    return Ok::<_, std::io::Error>(Some(base.to_owned()));
                }
            }
            Ok(None)
        };
        let base = match tokio::time::timeout(Duration::from_secs(600), wait).await {
            Ok(Ok(Some(base))) => base,
            Ok(Ok(None)) => bail!("the server exited before listening"),
            Ok(Err(e)) => bail!("reading the server's output: {e}"),
            Err(_) => bail!("the server did not start within 10 minutes"),
        };
        // For profiling the server alone (`perf record -p PID`), at RUST_LOG=info.
        tracing::info!(pid = child.id(), %base, "bench server started");
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerProcess { child, base })
    }

    /// The process's peak resident memory so far (VmHWM), in MiB.
    pub fn peak_resident_mib(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// SIGTERM and wait for the clean exit (the sequencer commits what it holds).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(120), self.child.wait()).await {
            Ok(status) => {
                status.context("waiting for the server")?;
            }
            Err(_) => {
                self.child.kill().await.ok();
                bail!("the server did not stop within 2 minutes");
            }
        }
        Ok(())
    }
}
