//! The one network access of this crate, made only when called: a checked download of the FID
//! Inception weights (`sngan fetch inception --to DIR`). The file is streamed to a temporary
//! name beside its destination, its SHA-256 checked against the prefix in the published file
//! name (torch.hub's `check_hash` convention), then renamed into place; a file already there
//! with the right hash is kept without a download.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{MetricsError, Result};
use crate::inception::{FID_WEIGHTS_FILE, FID_WEIGHTS_SHA256_PREFIX, FID_WEIGHTS_URL};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).map_err(|e| MetricsError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| MetricsError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Downloads `url` to `dest`, checking that its SHA-256 starts with `sha256_prefix`
/// (lowercase hex, any length up to 64). Returns `dest`. Follows redirects (GitHub release
/// assets redirect); `http://` and `https://` both work.
pub fn fetch_checked(url: &str, dest: &Path, sha256_prefix: &str) -> Result<PathBuf> {
    let prefix = sha256_prefix.to_ascii_lowercase();
    if dest.is_file() && sha256_file(dest)?.starts_with(&prefix) {
        return Ok(dest.to_path_buf());
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| MetricsError::io(dir, e))?;
    }
    let http = |found: String| MetricsError::Http {
        url: url.to_string(),
        found,
    };
    let response = ureq::get(url).call().map_err(|e| http(e.to_string()))?;
    let mut body = response.into_body().into_reader();
    let tmp = dest.with_extension("part");
    let result = (|| {
        let mut out = File::create(&tmp).map_err(|e| MetricsError::io(&tmp, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = body
                .read(&mut buf)
                .map_err(|e| http(format!("a read error after {total} bytes: {e}")))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| MetricsError::io(&tmp, e))?;
        }
        out.sync_all().map_err(|e| MetricsError::io(&tmp, e))?;
        let digest = hex(&hasher.finalize());
        if !digest.starts_with(&prefix) {
            return Err(MetricsError::Checksum {
                url: url.to_string(),
                expected: prefix.clone(),
                found: format!("{digest} ({total} bytes)"),
            });
        }
        std::fs::rename(&tmp, dest).map_err(|e| MetricsError::io(dest, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| dest.to_path_buf())
}

/// `sngan fetch inception --to DIR`: downloads pytorch-fid's
/// `pt_inception-2015-12-05-6726825d.pth` into `dir` from [`FID_WEIGHTS_URL`] (or `url`, e.g. a
/// mirror) and checks its hash prefix `6726825d`. Returns the file's path, ready for
/// [`crate::load_fid_inception`].
pub fn fetch_inception(dir: &Path, url: Option<&str>) -> Result<PathBuf> {
    fetch_checked(
        url.unwrap_or(FID_WEIGHTS_URL),
        &dir.join(FID_WEIGHTS_FILE),
        FID_WEIGHTS_SHA256_PREFIX,
    )
}
