//! Where packed data sets live: an extracted folder or a (gzipped) tar read in one streaming
//! pass without extracting, with a member that ends before its tar header's size reported as
//! truncated (the `tar` crate returns a short read without error, research/data.md section 1);
//! plus transparent gzip for single files (`1f 8b` magic, never the name).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use crate::error::{DataError, Result, io, member, show};
use sngan_core::CoreError;

/// Whether `path` starts with the gzip magic `1f 8b`.
pub(crate) fn is_gzip(path: &Path) -> Result<bool> {
    let mut f = File::open(path).map_err(io(show(path)))?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut f, &mut magic).map_err(io(show(path)))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads a whole file, gunzipping it when it starts with the gzip magic.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(io(show(path)))?;
    gunzip_maybe(bytes, &show(path))
}

/// `bytes` gunzipped when they start with the gzip magic, else as they are; `name` labels errors.
pub(crate) fn gunzip_maybe(bytes: Vec<u8>, name: &str) -> Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| gzip_error(name.into(), true, e))?;
    Ok(out)
}

/// Maps a read error inside a gzip stream to "truncated" when that is what it means.
pub(crate) fn gzip_error(path: String, gz: bool, e: io::Error) -> DataError {
    if gz
        && matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
        )
    {
        DataError::Core(CoreError::Truncated {
            path,
            expected: "a complete gzip stream".into(),
            found: format!("it ends early or is corrupt ({e}); re-download it"),
        })
    } else {
        DataError::Core(CoreError::Io { path, source: e })
    }
}

/// A folder of files or a tar (optionally gzipped) holding the same relative paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Store {
    /// Members are files below this folder.
    Dir(PathBuf),
    /// Members are entries of this tar or tar.gz.
    Tar(PathBuf),
}

/// A reader over one member that knows how many bytes the member should have and flags a
/// short read (truncated archive) instead of returning a silent end of file.
pub(crate) struct MemberReader<'a> {
    inner: &'a mut dyn Read,
    size: u64,
    read: u64,
    truncated: bool,
}

impl MemberReader<'_> {
    /// Bytes the member has according to its header or file size.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.read >= self.size {
            return Ok(0);
        }
        let max = ((self.size - self.read) as usize).min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            self.truncated = true;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("member ends after {} of {} bytes", self.read, self.size),
            ));
        }
        self.read += n as u64;
        Ok(n)
    }
}

impl Store {
    /// Text naming a member in messages.
    pub(crate) fn label(&self, name: &str) -> String {
        match self {
            Store::Dir(d) => show(&d.join(name)),
            Store::Tar(a) => member(a, name),
        }
    }

    /// The folder or archive itself.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Store::Dir(p) | Store::Tar(p) => p,
        }
    }

    /// Relative paths of all regular files (archive order or sorted folder walk).
    pub(crate) fn list(&self) -> Result<Vec<String>> {
        match self {
            Store::Dir(d) => {
                let mut out = Vec::new();
                walk(d, d, &mut out)?;
                out.sort();
                Ok(out)
            }
            Store::Tar(_) => {
                let mut out = Vec::new();
                self.scan(|name, _| {
                    out.push(name.to_string());
                    Ok(false)
                })?;
                Ok(out)
            }
        }
    }

    /// Calls `f(index, reader)` for each of `names` present, reading archives in one pass, and
    /// returns which were found.
    ///
    /// Fails with [`DataError::Missing`] (listing what is there) when one of the first
    /// `n_required` names is absent, and with
    /// [`CoreError::Truncated`] when a member is shorter than its header says.
    pub(crate) fn visit(
        &self,
        names: &[String],
        n_required: usize,
        mut f: impl FnMut(usize, &mut MemberReader<'_>) -> Result<()>,
    ) -> Result<Vec<bool>> {
        let mut seen = vec![false; names.len()];
        match self {
            Store::Dir(d) => {
                for (i, name) in names.iter().enumerate() {
                    let path = d.join(name);
                    if !path.is_file() {
                        continue;
                    }
                    let file = File::open(&path).map_err(io(show(&path)))?;
                    let size = file.metadata().map_err(io(show(&path)))?.len();
                    let mut buf = BufReader::with_capacity(1 << 20, file);
                    let mut r = MemberReader {
                        inner: &mut buf,
                        size,
                        read: 0,
                        truncated: false,
                    };
                    f(i, &mut r).map_err(|e| truncation(e, &r, self.label(name)))?;
                    seen[i] = true;
                }
            }
            Store::Tar(_) => {
                self.scan(|entry_name, r| {
                    if let Some(i) = names.iter().position(|n| n == entry_name) {
                        f(i, r).map_err(|e| truncation(e, r, self.label(entry_name)))?;
                        seen[i] = true;
                    }
                    Ok(seen.iter().all(|&s| s))
                })?;
            }
        }
        if let Some(i) = seen.iter().take(n_required).position(|&s| !s) {
            let present = self.list().unwrap_or_default();
            let shown: Vec<&str> = present.iter().take(12).map(String::as_str).collect();
            let more = present.len().saturating_sub(shown.len());
            return Err(DataError::Missing {
                path: show(self.path()),
                expected: names[i].clone(),
                found: if present.is_empty() {
                    "nothing".into()
                } else if more > 0 {
                    format!("{}, and {more} more", shown.join(", "))
                } else {
                    shown.join(", ")
                },
            });
        }
        Ok(seen)
    }

    /// One pass over the tar's regular files; `f` returns `true` to stop early.
    fn scan(&self, mut f: impl FnMut(&str, &mut MemberReader<'_>) -> Result<bool>) -> Result<()> {
        let path = self.path();
        let gz = is_gzip(path)?;
        let file = File::open(path).map_err(io(show(path)))?;
        let buf = BufReader::with_capacity(1 << 20, file);
        let reader: Box<dyn Read> = if gz {
            Box::new(GzDecoder::new(buf))
        } else {
            Box::new(buf)
        };
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| gzip_error(show(path), gz, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| tar_error(path, gz, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name.trim_start_matches("./").to_string();
            let size = entry.header().size().map_err(|e| tar_error(path, gz, e))?;
            let mut r = MemberReader {
                inner: &mut entry,
                size,
                read: 0,
                truncated: false,
            };
            let stop = f(&name, &mut r).map_err(|e| match e {
                DataError::Core(CoreError::Io { path, source }) => gzip_error(path, gz, source),
                e => e,
            })?;
            // Members the caller skipped or only partly read must still be complete: the tar
            // crate ends a cut member with a short read and no error.
            if !stop {
                let mut sink = io::sink();
                io::copy(&mut r, &mut sink).map_err(|e| {
                    truncation(
                        gzip_error(member(path, &name), gz, e),
                        &r,
                        member(path, &name),
                    )
                })?;
            }
            if stop {
                break;
            }
        }
        Ok(())
    }
}

fn tar_error(path: &Path, gz: bool, e: io::Error) -> DataError {
    if e.kind() == io::ErrorKind::UnexpectedEof || gz {
        gzip_error(show(path), gz, e)
    } else {
        DataError::Core(CoreError::Format {
            path: show(path),
            expected: "a tar archive".into(),
            found: format!("an unreadable tar header ({e})"),
        })
    }
}

/// Replaces an error caused by a short member with a [`CoreError::Truncated`] naming it.
fn truncation(e: DataError, r: &MemberReader<'_>, label: String) -> DataError {
    if r.truncated {
        DataError::Core(CoreError::Truncated {
            path: label,
            expected: format!("{} bytes (tar header)", r.size),
            found: format!("{} bytes", r.read),
        })
    } else {
        e
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(io(show(dir)))?;
    for entry in rd {
        let entry = entry.map_err(io(show(dir)))?;
        let path = entry.path();
        let ty = entry.file_type().map_err(io(show(&path)))?;
        if ty.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Reads all of `r` (a member) into memory.
pub(crate) fn read_all(r: &mut MemberReader<'_>, label: &str) -> Result<Vec<u8>> {
    // The size comes from a header that may lie; reserve at most 256 MB up front.
    let mut out = Vec::with_capacity(r.size().min(1 << 28) as usize);
    r.read_to_end(&mut out).map_err(io(label))?;
    Ok(out)
}
