//! `cargo xtask gpu-bundle`: everything `bench/gpu/check.sh` needs on a GPU machine that has no
//! Rust and no network, in one git-ignored folder small enough to carry beside the repository
//! (64 MiB in all).
//!
//! ```text
//! <out>/bin.tar.xz         bin/ below, release, cuda + wgpu + flex, stripped, in one solid xz
//!                          stream (1 GiB window)
//!   bin/parity             the integration-test binary (its `parity::` tests are the suite)
//!   bin/gpu-bench          benches/gpu.rs: training iterations, FID features/s, timed training
//! <out>/debs/*.deb         the Vulkan loader (libvulkan1) for machines that lack it
//! <out>/MANIFEST           commit, features, sizes
//! ```
//! `--features` and `--no-pack` (`bin/` unstripped and unpacked, no .debs) make the CPU dry run's
//! bundle from the build CI already has.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, cuda_env, root, run};

/// What the device tool carries in all: the repository's files and the bundle.
const CARRY_BYTES: u64 = 64 << 20;

/// The binaries by their sources (three packages have a test target named `it`), and their
/// names in the bundle. The check runs these two; the `sngan` CLI, which it does not use,
/// would not fit beside them (the three packed: 57 MiB; these two: 47 MiB).
const BINARIES: [(&str, &str); 2] = [
    ("tests/it/main.rs", "parity"),
    ("benches/gpu.rs", "gpu-bench"),
];

/// The bytes of the repository's tracked files, which travel beside the bundle.
fn repository_bytes() -> std::result::Result<u64, String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("could not start git: {e}"))?;
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::fs::metadata(root().join(String::from_utf8_lossy(p).as_ref())).ok())
        .map(|m| m.len())
        .sum())
}

struct Options {
    out: PathBuf,
    features: String,
    pack: bool,
}

fn parse(args: &[String]) -> std::result::Result<Options, String> {
    let mut options = Options {
        out: root().join("target/gpu-bundle"),
        features: "sngan/cuda,sngan/wgpu".into(),
        pack: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("gpu-bundle: {flag} needs a value"))
        };
        match arg.as_str() {
            "--out" => options.out = PathBuf::from(value("--out")?),
            "--features" => options.features = value("--features")?,
            "--no-pack" => options.pack = false,
            other => {
                return Err(format!(
                    "gpu-bundle: unknown argument '{other}' (expected --out DIR, --features LIST, --no-pack)"
                ));
            }
        }
    }
    Ok(options)
}

/// Builds the bundle (see the module docs).
pub fn gpu_bundle(args: &[String]) -> Result {
    let options = parse(args)?;
    if options.features.contains("cuda") {
        crate::llvm::install()?;
    }
    let built = build(&options.features)?;
    let out = &options.out;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let bin = out.join("bin");
    mkdir(&bin)?;
    for (source, name) in BINARIES {
        let exe = built
            .iter()
            .find(|(src, _)| *src == root().join(source))
            .map(|(_, exe)| exe)
            .ok_or(format!("cargo built no executable from {source}"))?;
        let copy = bin.join(name);
        std::fs::copy(exe, &copy).map_err(|e| format!("{}: {e}", copy.display()))?;
        if options.pack {
            let copy = copy.to_str().ok_or("bundle path is not UTF-8")?;
            run("strip", &["--strip-all", copy])?;
        }
    }
    if options.pack {
        // One solid xz stream over the binaries, with a window wider than both: they share
        // most of their bytes (LLVM, Burn, cubecl), which a per-file xz stores twice (76.7 MiB)
        // and this once (47.4 MiB). Single-threaded, because xz's threads cut the stream into
        // blocks that do not see each other. Unpacking needs 1 GiB of memory.
        let out_str = out.to_str().ok_or("bundle path is not UTF-8")?;
        let archive = format!("{out_str}/bin.tar.xz");
        run(
            "sh",
            &[
                "-c",
                r#"tar -C "$1" -cf - bin | xz -9e --lzma2=preset=9e,dict=1GiB --threads=1 > "$2""#,
                "pack",
                out_str,
                archive.as_str(),
            ],
        )?;
        std::fs::remove_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
        let debs = out.join("debs");
        mkdir(&debs)?;
        let status = Command::new("apt-get")
            .args(["download", "libvulkan1"])
            .current_dir(&debs)
            .status()
            .map_err(|e| format!("could not start apt-get (the Vulkan loader comes from Debian's libvulkan1): {e}"))?;
        if !status.success() {
            return Err(format!("`apt-get download libvulkan1` failed ({status})"));
        }
    }
    let sizes = sizes(out, out)?;
    let total: u64 = sizes.iter().map(|(_, n)| n).sum();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut manifest = format!(
        "sngan GPU bundle: commit {commit}, features {}, packed {}\n",
        options.features, options.pack
    );
    for (path, n) in &sizes {
        manifest += &format!("{n:>12}  {path}\n");
    }
    manifest += &format!("{total:>12}  total ({:.1} MiB)\n", mib(total));
    std::fs::write(out.join("MANIFEST"), &manifest).map_err(|e| e.to_string())?;
    eprint!("{manifest}");
    let repository = repository_bytes()?;
    if options.pack && total + repository > CARRY_BYTES {
        return Err(format!(
            "the bundle is {:.1} MiB: with the repository's {:.1} MiB, over the {:.0} MiB a device run carries",
            mib(total),
            mib(repository),
            mib(CARRY_BYTES)
        ));
    }
    eprintln!("xtask: GPU bundle in {}", out.display());
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

fn mkdir(dir: &Path) -> Result {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Builds the bundle's three targets with `features` (workspace-wide, as CI resolves them, so
/// that the dry run reuses CI's build); returns (source, executable) pairs.
fn build(features: &str) -> std::result::Result<Vec<(PathBuf, PathBuf)>, String> {
    let args = [
        "build",
        "--release",
        "--workspace",
        "--features",
        features,
        "--test",
        "it",
        "--bench",
        "gpu",
        "--message-format=json-render-diagnostics",
    ];
    eprintln!("xtask: cargo {}", args.join(" "));
    let env = if features.contains("cuda") {
        cuda_env()
    } else {
        Vec::new()
    };
    let output = Command::new("cargo")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo {}` failed ({})",
            args.join(" "),
            output.status
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .filter_map(|l| {
            let source = json_string(l.split_once(r#""target":"#)?.1, "src_path")?;
            let exe = json_string(l, "executable")?;
            Some((PathBuf::from(source), PathBuf::from(exe)))
        })
        .collect())
}

/// The first string value of `"key":"..."` in `json` (cargo's messages escape no characters in
/// Unix paths).
fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!(r#""{key}":""#))? + key.len() + 4;
    let len = json[start..].find('"')?;
    Some(json[start..start + len].to_string())
}

/// Every file under `dir` with its size, paths relative to `base`, sorted.
fn sizes(dir: &Path, base: &Path) -> std::result::Result<Vec<(String, u64)>, String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            out.extend(sizes(&path, base)?);
        } else {
            let n = path.metadata().map_err(|e| e.to_string())?.len();
            let rel = path.strip_prefix(base).expect("under base");
            out.push((rel.display().to_string(), n));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CI_FEATURES;

    #[test]
    fn reads_cargo_artifact_messages() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w#sngan@0.1.0","target":{"kind":["test"],"name":"it","src_path":"/w/tests/it/main.rs"},"executable":"/w/target/release/deps/it-0a1b","fresh":true}"#;
        let source = json_string(line.split_once(r#""target":"#).unwrap().1, "src_path");
        assert_eq!(source.as_deref(), Some("/w/tests/it/main.rs"));
        assert_eq!(
            json_string(line, "executable").as_deref(),
            Some("/w/target/release/deps/it-0a1b")
        );
        assert_eq!(json_string(line, "missing"), None);
    }

    /// `bench/gpu/check.sh` end to end on the CPU (`--device flex --tiny`), from a bundle of the
    /// binaries CI has built: the dry run of the script a GPU machine runs.
    #[test]
    fn gpu_check_runs_end_to_end_on_flex() {
        let dir = std::env::temp_dir().join(format!("sngan-gpu-check-{}", std::process::id()));
        let bundle = dir.join("bundle");
        let report = dir.join("out");
        let args: Vec<String> = [
            "--out",
            bundle.to_str().unwrap(),
            "--features",
            CI_FEATURES,
            "--no-pack",
        ]
        .map(String::from)
        .to_vec();
        gpu_bundle(&args).expect("dry-run bundle");
        std::fs::create_dir_all(&report).unwrap();
        let script = root().join("bench/gpu/check.sh");
        let status = Command::new(&script)
            .args(["--device", "flex", "--tiny", "--bundle"])
            .arg(&bundle)
            .env("OUT", &report)
            .current_dir(root())
            .status()
            .expect("check.sh starts");
        assert!(status.success(), "check.sh --device flex failed ({status})");
        let md = std::fs::read_to_string(report.join("gpu.md")).expect("gpu.md written");
        for section in [
            "## Device",
            "## Parity",
            "## Training iterations",
            "## FID Inception features",
            "## Two minutes of training",
        ] {
            assert!(md.contains(section), "gpu.md lacks '{section}':\n{md}");
        }
        assert!(!md.contains("FAIL"), "gpu.md reports a failure:\n{md}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
