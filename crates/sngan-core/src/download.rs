//! Checked downloads, the only network access of the workspace's libraries, made only when
//! `sngan-data`'s `fetch` or `sngan-metrics`' `fetch_inception` calls it: the body is streamed to
//! a hidden `.part` file beside the target with a progress bar while MD5 and SHA-256 are
//! computed, compared with the published digests (a SHA-256 may be given as a prefix, torch.hub's
//! `check_hash` convention), and renamed into place. A bad digest, a short body or an HTTP error
//! leaves no file behind; a target already there with the right digests is kept without a
//! transfer. Redirects are followed (GitHub release assets redirect).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};
use sha2::Sha256;

use crate::error::{CoreError, Result, io, show};

/// The published digests of a file (lowercase or uppercase hex); either may be absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digests {
    /// MD5.
    pub md5: Option<String>,
    /// SHA-256, or a prefix of it.
    pub sha256: Option<String>,
}

impl Digests {
    /// The first published digest that `md5`/`sha256` contradict, as (algorithm, expected, found).
    fn mismatch(&self, md5: &str, sha256: &str) -> Option<(&'static str, String, String)> {
        if let Some(want) = &self.md5
            && !want.eq_ignore_ascii_case(md5)
        {
            return Some(("md5", want.clone(), md5.into()));
        }
        if let Some(want) = &self.sha256
            && !sha256.starts_with(&want.to_ascii_lowercase())
        {
            return Some(("sha256", want.clone(), sha256.into()));
        }
        None
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 of `bytes`, lowercase hex (checksums of decoded images in reports).
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `(md5, sha256)` of a file, lowercase hex.
pub fn file_digests(path: &Path) -> Result<(String, String)> {
    let mut f = File::open(path).map_err(io(show(path)))?;
    let (mut md5, mut sha) = (Md5::new(), Sha256::new());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io(show(path)))?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        sha.update(&buf[..n]);
    }
    Ok((hex(&md5.finalize()), hex(&sha.finalize())))
}

/// Removes `path` when dropped unless disarmed: no partial file survives an error.
pub struct Cleanup(Option<PathBuf>);

impl Cleanup {
    /// Removes `path` (a file or a folder) on drop.
    pub fn new(path: PathBuf) -> Self {
        Self(Some(path))
    }

    /// Keeps the path.
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

fn agent_for(url: &str) -> ureq::Agent {
    let local = url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost");
    let mut builder = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(120)));
    if local {
        // A proxy from the environment must not see (or break) loopback test servers.
        builder = builder.proxy(None);
    }
    ureq::Agent::new_with_config(builder.build())
}

/// Downloads `url` to `dest` (its folder is created) and checks it against `digests`; returns
/// the bytes transferred, 0 when `dest` already matched. `progress` draws a bar on stderr.
pub fn download(url: &str, dest: &Path, digests: &Digests, progress: bool) -> Result<u64> {
    if dest.is_file() {
        let (md5, sha) = file_digests(dest)?;
        if digests.mismatch(&md5, &sha).is_none() {
            return Ok(0);
        }
    }
    let dir = dest.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(io(show(dir)))?;
    }
    let name = dest
        .file_name()
        .map_or_else(|| "download".into(), |n| n.to_string_lossy().into_owned());
    let part = dest.with_file_name(format!(".{name}.part"));
    let mut guard = Cleanup::new(part.clone());
    let fail = |expected: &str, found: String| CoreError::Download {
        url: url.into(),
        path: show(dest),
        expected: expected.into(),
        found,
    };
    let mut response = agent_for(url)
        .get(url)
        .call()
        .map_err(|e| fail("an HTTP 200 response", e.to_string()))?;
    let total = response.body().content_length();
    let bar = match progress {
        true => {
            let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(name.clone());
            bar
        }
        false => indicatif::ProgressBar::hidden(),
    };
    let file = File::create(&part).map_err(io(show(&part)))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let (mut md5, mut sha) = (Md5::new(), Sha256::new());
    let mut body = response.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut got: u64 = 0;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                let whole = total.map_or("the whole body".into(), |t| format!("{t} bytes"));
                return Err(fail(
                    &whole,
                    format!("the transfer broke after {got} bytes ({e})"),
                ));
            }
        };
        out.write_all(&buf[..n]).map_err(io(show(&part)))?;
        md5.update(&buf[..n]);
        sha.update(&buf[..n]);
        got += n as u64;
        bar.set_position(got);
    }
    bar.finish();
    let file = out
        .into_inner()
        .map_err(|e| io(show(&part))(e.into_error()))?;
    file.sync_all().map_err(io(show(&part)))?;
    if let Some(t) = total
        && t != got
    {
        return Err(fail(
            &format!("{t} bytes (Content-Length)"),
            format!("{got} bytes"),
        ));
    }
    let (md5, sha) = (hex(&md5.finalize()), hex(&sha.finalize()));
    if let Some((algorithm, expected, found)) = digests.mismatch(&md5, &sha) {
        return Err(CoreError::Checksum {
            path: show(dest),
            algorithm: algorithm.into(),
            expected,
            found,
        });
    }
    std::fs::rename(&part, dest).map_err(io(show(dest)))?;
    guard.disarm();
    Ok(got)
}
