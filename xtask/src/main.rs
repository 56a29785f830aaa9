//! Project automation, run as `cargo xtask <command>` (std only; it shells out to cargo).
//!
//! - `ci`: the README's test command and all `.ci/run` runs, cheapest first: fmt, tidy, clippy,
//!   then the tests (`cargo nextest run --release --workspace --features sngan/wgpu`): every test
//!   on flex, and the GPU-path parity suite on `wgpu` (a software Vulkan such as Mesa's lavapipe
//!   serves where there is no GPU).
//! - `check-backends`: builds every backend: `ndarray`, then `wgpu` and `cuda` (with `flex`).
//! - `llvm`: installs the LLVM that the `cuda` build links, offline, from PyPI (see `llvm.rs`).
//! - `gpu-bundle`: the binaries `bench/gpu/check.sh` runs on a GPU machine (see `bundle.rs`).
//! - `bench [NAME]`: the benchmarks, each printed beside the same work in PyTorch when
//!   `bench/pytorch/NAME.py` and a Python with torch (`SNGAN_PYTHON`, default `python3`) exist.
//! - `tidy`: every library file opens with a `//!` line; every fixture folder has its generator.
//! - `configs`: writes `configs/<experiment>.json` from the Rust presets.

mod bundle;
mod llvm;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("check-backends") => check_backends(),
        Some("llvm") => llvm::install(),
        Some("gpu-bundle") => bundle::gpu_bundle(&args[1..]),
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
            Err("usage: cargo xtask ci | check-backends | llvm | gpu-bundle [--out DIR] | bench [conv|spectral|train|loader|metrics] | tidy | configs".into())
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
    run_with(program, args, &[])
}

/// Runs `program args` in the workspace root with `env` added, passing its output through.
fn run_with(program: &str, args: &[&str], env: &[(&str, String)]) -> Result {
    eprintln!("xtask: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// The features CI builds with: flex (the default) for every test, and wgpu for the parity
/// suite, in one build (the facade's other libraries compile once for both).
const CI_FEATURES: &str = "sngan/wgpu";

/// The environment of tests that run wgpu kernels on a software Vulkan: autotuning compiles
/// every candidate kernel, which costs minutes per shape on lavapipe and tunes nothing the
/// parity suite measures; wgpu wants a runtime directory, which containers often lack.
fn wgpu_test_env() -> Vec<(&'static str, String)> {
    let mut env = vec![(
        "CUBECL_AUTOTUNE_LEVEL",
        std::env::var("CUBECL_AUTOTUNE_LEVEL").unwrap_or_else(|_| "minimal".into()),
    )];
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        env.push((
            "XDG_RUNTIME_DIR",
            std::env::temp_dir().to_string_lossy().into_owned(),
        ));
    }
    env
}

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
            "--features",
            CI_FEATURES,
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // nextest ends on one summary line for the whole workspace.
    run_with(
        "cargo",
        &[
            "nextest",
            "run",
            "--release",
            "--workspace",
            "--features",
            CI_FEATURES,
            "--no-fail-fast",
        ],
        &wgpu_test_env(),
    )
}

/// The CUDA toolkit version the `cuda` build targets where the build machine has none
/// (`cudarc` otherwise asks `nvcc`): 13.0, the lent GPU machines' toolkit.
fn cuda_env() -> Vec<(&'static str, String)> {
    let has_nvcc = Command::new("nvcc").arg("--version").output().is_ok();
    match std::env::var_os("CUDARC_CUDA_VERSION") {
        None if !has_nvcc => vec![("CUDARC_CUDA_VERSION", "13000".into())],
        _ => Vec::new(),
    }
}

fn check_backends() -> Result {
    // flex is the default and every build below has it. cuda links LLVM, installed offline
    // first where GitHub is out of reach (`cargo xtask llvm`); wgpu and cuda build together,
    // as the GPU bundle has them.
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
    llvm::install()?;
    run_with(
        "cargo",
        &["build", "--release", "--features", "wgpu,cuda"],
        &cuda_env(),
    )
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
