//! Open files of local blobs, kept for reuse (what nginx's `open_file_cache`
//! does).
//!
//! A thumbnail download reads two small blob files (header and payload);
//! opening and closing them costs more than reading them. A blob file is
//! immutable: its key is random and never reused, and it is written once,
//! create-if-absent. So a descriptor stays right for its key until the blob
//! is deleted, and a bounded number of them is kept here, least recently used
//! first out.
//!
//! This is not an authorisation cache: every download is authorised from the
//! database before its files are looked up here (S8), and a key is only ever
//! asked for when a database row names it. Deleting a blob drops its
//! descriptor too, so its disk space is freed at once.

use std::fs::File;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lru::LruCache;

/// A bounded set of open blob files, by blob key.
#[derive(Debug)]
pub struct OpenFiles {
    files: Option<Mutex<LruCache<String, Arc<File>>>>,
}

impl OpenFiles {
    /// Keeps at most `capacity` files open; 0 opens every file every time.
    pub fn new(capacity: usize) -> Self {
        Self {
            files: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
        }
    }

    /// The open file of blob `key`; `path` names its file when it must be
    /// opened.
    pub fn open<E: From<std::io::Error>>(
        &self,
        key: &str,
        path: impl FnOnce() -> Result<PathBuf, E>,
    ) -> Result<Arc<File>, E> {
        let Some(files) = &self.files else {
            return Ok(Arc::new(File::open(path()?)?));
        };
        if let Some(file) = files.lock().ok().and_then(|mut f| f.get(key).cloned()) {
            return Ok(file);
        }
        // Opened outside the lock; two threads that miss at once both open,
        // and one descriptor replaces the other.
        let file = Arc::new(File::open(path()?)?);
        if let Ok(mut files) = files.lock() {
            files.put(key.to_owned(), Arc::clone(&file));
        }
        Ok(file)
    }

    /// Drops the file of a deleted blob.
    pub fn forget(&self, key: &str) {
        if let Some(Ok(mut files)) = self.files.as_ref().map(Mutex::lock) {
            files.pop(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &std::path::Path) -> impl FnOnce() -> std::io::Result<PathBuf> + '_ {
        move || Ok(path.to_path_buf())
    }

    #[test]
    fn reuses_files_and_forgets_deleted_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"sealed").unwrap();
        let files = OpenFiles::new(2);
        let first = files.open("k", at(&path)).unwrap();
        let again = files.open("k", at(&path)).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "a second read reuses the file");
        files.forget("k");
        let reopened = files.open("k", at(&path)).unwrap();
        assert!(
            !Arc::ptr_eq(&first, &reopened),
            "a forgotten file is opened anew"
        );
        // Bounded: the least recently used file goes first.
        for key in ["a", "b"] {
            files.open(key, at(&path)).unwrap();
        }
        let a = files.open("a", at(&path)).unwrap();
        assert!(!Arc::ptr_eq(
            &reopened,
            &files.open("k", at(&path)).unwrap()
        ));
        assert!(Arc::ptr_eq(&a, &files.open("a", at(&path)).unwrap()));
    }

    #[test]
    fn capacity_zero_opens_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"sealed").unwrap();
        let files = OpenFiles::new(0);
        let a = files.open("k", at(&path)).unwrap();
        let b = files.open("k", at(&path)).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(files.open("missing", at(&dir.path().join("nope"))).is_err());
    }
}
