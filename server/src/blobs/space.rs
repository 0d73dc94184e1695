//! Room on the blob store. A local store knows its free space (`statvfs` of
//! the blob directory), so an upload whose declared size does not fit is
//! answered `507 storage_full` before a byte of it is read; on any store, a
//! write that fails for lack of room (`ENOSPC`, `EDQUOT`) is answered the same
//! way. Either marks the store full — `/healthz` and the
//! `sealcam_storage_full` gauge show it — until a later write succeeds.

use std::io::ErrorKind;
use std::sync::atomic::Ordering;

use super::{BlobError, BlobStore};

/// Room kept free beside an upload on a local store (the database, its
/// journal and the staging files live on the same disk more often than not).
pub const RESERVE_BYTES: u64 = 1024 * 1024;

impl BlobStore {
    /// Bytes free for new blobs: the local store's filesystem; `None` for
    /// S3, which says so only by failing a write.
    pub fn free_bytes(&self) -> Option<u64> {
        let root = self.root.as_ref()?;
        let stat = rustix::fs::statvfs(root).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    /// Whether a body of `len` bytes fits, keeping [`RESERVE_BYTES`] free
    /// (`true` when the store cannot tell).
    pub fn has_room_for(&self, len: u64) -> bool {
        match self.free_bytes() {
            Some(free) => len.saturating_add(RESERVE_BYTES) <= free,
            None => true,
        }
    }

    /// Records whether the store was found full.
    pub fn set_full(&self, full: bool) {
        self.full.store(full, Ordering::Relaxed);
    }

    /// Whether the last write found the store full.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }
}

/// Whether `e` failed for lack of room: `ENOSPC` or `EDQUOT` anywhere in its
/// chain of sources (object_store wraps the local filesystem's I/O errors).
pub fn is_full_error(e: &BlobError) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
                || matches!(io.raw_os_error(), Some(28 | 122))
            {
                return true;
            }
        }
        cur = err.source();
    }
    // Some wrappers keep only the message.
    e.to_string().contains("No space left on device")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_is_found_through_wrappers() {
        let io = std::io::Error::from_raw_os_error(28);
        assert!(is_full_error(&BlobError::Io(io)));
        let wrapped = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::from_raw_os_error(28)),
        };
        assert!(is_full_error(&BlobError::Store(wrapped)));
        let other = std::io::Error::from_raw_os_error(13);
        assert!(!is_full_error(&BlobError::Io(other)));
    }
}
