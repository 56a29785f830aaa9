//! The one network access of this crate, made only when called: a checked download of the FID
//! Inception weights (`sngan fetch inception --to DIR`) by `sngan_core::download`, its SHA-256
//! checked against the prefix in the published file name (torch.hub's `check_hash`
//! convention); a file already there with the right hash is kept without a download.

use std::path::{Path, PathBuf};

use sngan_core::{Digests, download};

use crate::error::Result;
use crate::inception::{FID_WEIGHTS_FILE, FID_WEIGHTS_SHA256_PREFIX, FID_WEIGHTS_URL};

/// `sngan fetch inception --to DIR`: downloads pytorch-fid's
/// `pt_inception-2015-12-05-6726825d.pth` into `dir` from [`FID_WEIGHTS_URL`] (or `url`, e.g. a
/// mirror) and checks its hash prefix `6726825d`. Returns the file's path, ready for
/// [`crate::load_fid_inception`].
pub fn fetch_inception(dir: &Path, url: Option<&str>) -> Result<PathBuf> {
    let dest = dir.join(FID_WEIGHTS_FILE);
    let digests = Digests {
        md5: None,
        sha256: Some(FID_WEIGHTS_SHA256_PREFIX.into()),
    };
    download(url.unwrap_or(FID_WEIGHTS_URL), &dest, &digests, true)?;
    Ok(dest)
}
