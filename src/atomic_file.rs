//! Replacing a file whole: readers (and a crash) see the old content or the new, never a part.
//! RDB saves, a replica's copy of its master's transfer and CONFIG REWRITE all replace files
//! this way: write a temp file beside the target, fsync it, rename it over the target.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A temp file that becomes `path` on [`AtomicFile::commit`]. Dropped uncommitted (an error
/// on the way, a cancelled transfer), it is removed and `path` is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once committed.
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temp file `tmp` (beside `path`, so the rename stays on one file system);
    /// writes are buffered in 1 MiB.
    pub fn create(path: &Path, tmp: PathBuf) -> std::io::Result<AtomicFile> {
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Flushes and fsyncs the content, then renames it over the target.
    pub fn commit(mut self) -> std::io::Result<()> {
        let Some(buffered) = self.file.take() else {
            return Ok(());
        };
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)
    }

    fn writer(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Uncommitted, or the rename failed: the temp file must not be left behind.
        if self.file.take().is_some() || self.tmp.exists() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AtomicFile;
    use std::io::Write;

    #[test]
    fn commit_replaces_and_drop_leaves_the_target_untouched() {
        let dir = std::env::temp_dir().join(format!("resplica-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("data");
        std::fs::write(&target, b"old").unwrap();

        let mut f = AtomicFile::create(&target, dir.join("data.tmp")).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert!(!dir.join("data.tmp").exists());

        let mut f = AtomicFile::create(&target, dir.join("data.tmp")).unwrap();
        f.write_all(b"new content").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new content");
        assert!(!dir.join("data.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
