//! The LLVM 23 that Burn's `cuda` backend links, installed offline from PyPI.
//!
//! Burn 0.22.1's `cubecl-cuda` compiles kernels through LLVM's NVPTX backend (`cubecl-llvm`),
//! whose build dependency `tracel-llvm-bundler 23.1.0-4` downloads a prebuilt LLVM from GitHub
//! unless `<data dir>/tracel/tracel-llvm-23.1.0-4/.tracel-llvm-installed` exists (its
//! `build.rs`, `src/config.rs`). The same LLVM is on PyPI as static libraries with a
//! self-contained `llvm-config`: `mlc-llvm-static` plus `mlc-llvm-static-extra-targets`
//! (NVPTX). This step installs those wheels there and writes the sentinel, so that
//! `cargo build --features cuda` needs no GitHub. The built binary carries LLVM statically.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::{Result, run};

/// The bundler's install directory name and the wheels that fill it (pinned together).
const BUNDLER_DIR: &str = "tracel-llvm-23.1.0-4";
const WHEELS: [&str; 2] = [
    "mlc-llvm-static==23.1.1.post0",
    "mlc-llvm-static-extra-targets==23.1.1.post0",
];
const SENTINEL: &str = ".tracel-llvm-installed";

/// `dirs::data_local_dir()`, as the bundler computes it on Linux and macOS.
fn data_local_dir() -> std::result::Result<PathBuf, String> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let dir = if cfg!(target_os = "macos") {
        home().map(|h| h.join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home().map(|h| h.join(".local/share")))
    };
    dir.ok_or_else(|| "neither XDG_DATA_HOME nor HOME is set".into())
}

/// Whether the bundler could fetch LLVM itself (github.com answers on port 443 within 3 s).
fn github_reachable() -> bool {
    ("github.com", 443)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_ok())
}

/// Installs the LLVM layout unless it is there or GitHub is reachable; idempotent. Python's pip
/// (`SNGAN_PYTHON`, default `python3`) fetches the wheels; nothing is left half-installed: the
/// wheels land in a fresh folder, the bundler's path is linked to it and the sentinel comes last.
pub fn install() -> Result {
    let tracel = data_local_dir()?.join("tracel");
    let target = tracel.join(BUNDLER_DIR);
    if target.join(SENTINEL).exists() {
        eprintln!("xtask: LLVM for cuda already at {}", target.display());
        return Ok(());
    }
    if github_reachable() {
        eprintln!("xtask: github.com is reachable; the cuda build downloads its LLVM itself");
        return Ok(());
    }
    let wheels = tracel.join("mlc-llvm-static-23.1.1.post0");
    let partial = tracel.join(".mlc-llvm-static.partial");
    for dir in [&partial, &wheels] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    let python = std::env::var("SNGAN_PYTHON").unwrap_or_else(|_| "python3".into());
    let partial_arg = partial.to_str().ok_or("the data directory is not UTF-8")?;
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--target",
        partial_arg,
    ];
    args.extend(WHEELS);
    run(&python, &args).map_err(|e| {
        format!("{e}\nxtask: installing LLVM for cuda needs Python's pip and PyPI (SNGAN_PYTHON picks the Python)")
    })?;
    std::fs::rename(&partial, &wheels).map_err(|e| format!("{}: {e}", wheels.display()))?;
    let sdk = wheels.join("mlc_llvm_static/static");
    if !sdk.join("bin/llvm-config").exists() || !sdk.join("lib/libLLVMNVPTXCodeGen.a").exists() {
        return Err(format!(
            "{}: expected bin/llvm-config and lib/libLLVMNVPTXCodeGen.a from {WHEELS:?}",
            sdk.display()
        ));
    }
    if target.symlink_metadata().is_ok() {
        std::fs::remove_file(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    std::os::unix::fs::symlink(&sdk, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    std::fs::write(
        target.join(SENTINEL),
        b"mlc-llvm-static 23.1.1.post0 from PyPI\n",
    )
    .map_err(|e| format!("{}: {e}", target.display()))?;
    eprintln!("xtask: LLVM for cuda installed at {}", target.display());
    Ok(())
}
