//! Atomic file writes: the bytes go to a hidden temporary file beside the target, are synced,
//! and replace the target by a rename, so a reader (or a run killed mid-write) sees either the
//! old file or the complete new one, never a torn one; a failed or abandoned write leaves
//! nothing behind.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, io, show};

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(io(show(path)))?;
    file.commit()
}

/// A file written in pieces that appears at its path only on [`commit`](Self::commit): it is
/// written to `.<name>.partial` in the same folder, synced, then renamed over `path`. Dropped
/// without a commit (an error on the way), the partial file is removed.
pub struct AtomicFile {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path` (its folder must exist).
    pub fn create(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let partial = path.with_file_name(format!(".{name}.partial"));
        let file = File::create(&partial).map_err(io(show(&partial)))?;
        Ok(Self {
            path: path.to_path_buf(),
            partial,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The path the file will have.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let writer = self
            .writer
            .take()
            .expect("an uncommitted file has its writer");
        let file = writer
            .into_inner()
            .map_err(|e| io(show(&self.partial))(e.into_error()))?;
        file.sync_all().map_err(io(show(&self.partial)))?;
        drop(file);
        std::fs::rename(&self.partial, &self.path).map_err(io(show(&self.path)))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .flush()
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .seek(pos)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_whole_on_commit_and_not_at_all_when_abandoned() {
        let dir = std::env::temp_dir().join(format!("sngan-core-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("a.txt");
        write_atomic(&path, b"old").expect("write");
        let mut f = AtomicFile::create(&path).expect("create");
        f.write_all(b"new, half").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        drop(f);
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["a.txt"], "the partial file is removed");
        write_atomic(&path, b"new").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        std::fs::remove_dir_all(dir).ok();
    }
}
