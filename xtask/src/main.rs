//! Project automation, run as `cargo xtask <command>` (std only; it shells out to cargo).
//!
//! - `ci`: the README's test command and all `.ci/run` runs, cheapest first: fmt, tidy, clippy,
//!   then the tests (`cargo nextest run --release --workspace`, flex backend).
//! - `check-backends`: builds the facade with each backend feature that can build offline.
//! - `bench [NAME]`: the benchmarks, each printed beside the same work in PyTorch when
//!   `bench/pytorch/NAME.py` and a Python with torch (`SNGAN_PYTHON`, default `python3`) exist.
//! - `tidy`: every library file opens with a `//!` line; every fixture folder has its generator.
//! - `configs`: writes `configs/<experiment>.json` from the Rust presets.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("check-backends") => check_backends(),
        Some("bench") => bench(args.get(1).map(String::as_str)),
        Some("tidy") => tidy(),
        Some("configs") => run(
            "cargo",
            &[
                "run",
                "--release",
                "--quiet",
                "-p",
                "sngan-cli",
                "--",
                "write-configs",
                "configs",
            ],
        ),
        _ => {
            Err("usage: cargo xtask ci | check-backends | bench [conv|spectral|train|loader|metrics] | tidy | configs".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result = std::result::Result<(), String>;

fn root() -> PathBuf {
    // `cargo xtask` sets the variable when it runs the binary; the build-time value would
    // point at whichever checkout first built a shared `target/`.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn run(program: &str, args: &[&str]) -> Result {
    eprintln!("xtask: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// CI's test suite: every test of the workspace, release build, default (flex) backend. nextest
/// ends on one summary line for the whole workspace.
const TEST_ARGS: &[&str] = &[
    "nextest",
    "run",
    "--release",
    "--workspace",
    "--no-fail-fast",
];

fn ci() -> Result {
    run("cargo", &["fmt", "--all", "--check"])?;
    tidy()?;
    run(
        "cargo",
        &[
            "clippy",
            "--release",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", TEST_ARGS)
}

fn check_backends() -> Result {
    // flex is the default and CI builds it; ndarray and wgpu must keep compiling. cuda cannot
    // build offline (Burn 0.22.1's cubecl-cuda downloads LLVM in a build script), so it is
    // checked only where the network is reachable: SNGAN_CHECK_CUDA=1.
    run(
        "cargo",
        &[
            "build",
            "--release",
            "--no-default-features",
            "--features",
            "ndarray",
        ],
    )?;
    run("cargo", &["build", "--release", "--features", "wgpu"])?;
    if std::env::var_os("SNGAN_CHECK_CUDA").is_some() {
        run("cargo", &["build", "--release", "--features", "cuda"])?;
    } else {
        eprintln!("xtask: skipping cuda (needs network at build time; set SNGAN_CHECK_CUDA=1)");
    }
    Ok(())
}

/// Each benchmark target and the PyTorch twin in `bench/pytorch/` that does the same work.
const BENCHES: [(&str, &str); 5] = [
    ("conv", "conv.py"),
    ("spectral", "spectral.py"),
    ("train", "train.py"),
    ("loader", "data.py"),
    ("metrics", "metrics.py"),
];

fn bench(name: Option<&str>) -> Result {
    let selected: Vec<(&str, &str)> = match name {
        Some(n) => vec![
            *BENCHES
                .iter()
                .find(|(b, _)| *b == n)
                .ok_or(format!("no benchmark '{n}'"))?,
        ],
        None => BENCHES.to_vec(),
    };
    for (name, twin) in selected {
        let ours = results(&capture("cargo", &["bench", "--bench", name])?);
        let script = root().join("bench/pytorch").join(twin);
        let python = std::env::var("SNGAN_PYTHON").unwrap_or_else(|_| "python3".into());
        let theirs = match script.exists() {
            true => match capture(&python, &[script.to_str().expect("utf-8 path")]) {
                Ok(out) => results(&out),
                Err(e) => {
                    eprintln!(
                        "xtask: PyTorch side of '{name}' did not run ({e}); install torch or set SNGAN_PYTHON"
                    );
                    Vec::new()
                }
            },
            false => Vec::new(),
        };
        println!(
            "{:<40} {:>12} {:>12} {:>14}",
            "benchmark", "sngan", "pytorch", "sngan/pytorch"
        );
        for (key, value) in &ours {
            let other = theirs.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
            let ratio = match other {
                Some(t) if key.ends_with("_ms") => format!("{:.2}", value / t),
                _ => "-".into(),
            };
            let other = other.map_or("-".into(), |t| format!("{t:.2}"));
            println!("{key:<40} {value:>12.2} {other:>12} {ratio:>14}");
        }
    }
    Ok(())
}

/// Runs a command, passing its stderr through, and returns its stdout.
fn capture(program: &str, args: &[&str]) -> std::result::Result<String, String> {
    eprintln!("xtask: {program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{program} {}` failed ({})",
            args.join(" "),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `bench: <key> <value>` lines of a benchmark's output.
fn results(stdout: &str) -> Vec<(String, f64)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("bench: "))
        .filter_map(|l| {
            let (key, value) = l.split_once(' ')?;
            Some((key.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

fn tidy() -> Result {
    let mut problems = Vec::new();
    for crate_dir in read_dir(&root().join("crates"))?
        .into_iter()
        .chain([root()])
    {
        for file in rust_files(&crate_dir.join("src"))? {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            if !text.starts_with("//!") {
                problems.push(format!(
                    "{}: a library file must open with a `//!` line",
                    file.display()
                ));
            }
        }
    }
    let fixtures = root().join("tests/it/fixtures");
    if fixtures.exists() {
        for case in read_dir(&fixtures)? {
            if !case.join("export.py").exists() {
                problems.push(format!(
                    "{}: fixture folder without its export.py generator",
                    case.display()
                ));
            }
        }
    }
    if problems.is_empty() {
        eprintln!("xtask: tidy ok");
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn read_dir(dir: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

fn rust_files(dir: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            out.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(out)
}
