//! Buffers for the bytes a download reads out of SQLite, used again once
//! hyper has written them.
//!
//! A thumbnail's bytes are copied out of SQLite's row into a buffer that
//! then goes to the socket. A fresh heap buffer for each request is cold in
//! the cache, and the copy into it was the largest single user-space cost of
//! a thumbnail GET in the serve bench's profile. Here each worker thread
//! keeps the buffers its responses released, newest last, and the next read
//! takes the newest: the one the kernel just read for the last response,
//! still in the cache.

use std::cell::RefCell;

use bytes::Bytes;

/// Buffers kept per thread (a few more than the responses one worker has in
/// flight at a time under load).
const KEEP: usize = 32;
/// Larger buffers are not kept: the pool is for small parts.
const LARGEST: usize = 128 * 1024;

thread_local! {
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer that goes back to its thread's pool when the last `Bytes` over
/// it is dropped.
struct Recycled(Vec<u8>);

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if buf.capacity() > LARGEST {
            return;
        }
        // During thread teardown the pool is gone; the buffer is freed.
        let _ = FREE.try_with(|free| {
            if let Ok(mut free) = free.try_borrow_mut() {
                if free.len() < KEEP {
                    free.push(buf);
                }
            }
        });
    }
}

/// `bytes` copied into a buffer of this thread's pool (a new one when none
/// is free or fits).
pub(super) fn copy(bytes: &[u8]) -> Bytes {
    if bytes.len() > LARGEST {
        return Bytes::copy_from_slice(bytes);
    }
    let mut buf = FREE
        .try_with(|free| free.try_borrow_mut().ok().and_then(|mut f| f.pop()))
        .ok()
        .flatten()
        .unwrap_or_default();
    buf.clear();
    buf.extend_from_slice(bytes);
    Bytes::from_owner(Recycled(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled() -> usize {
        FREE.with(|f| f.borrow().len())
    }

    #[test]
    fn a_released_buffer_serves_the_next_copy_with_only_its_bytes() {
        let big = vec![0xAB; 20_000];
        let first = copy(&big);
        assert_eq!(&first[..], &big[..]);
        let before = pooled();
        drop(first);
        assert_eq!(pooled(), before + 1, "the buffer went back to the pool");
        // A shorter copy into the same buffer: nothing of the old bytes shows.
        let second = copy(b"short");
        assert_eq!(pooled(), before);
        assert_eq!(&second[..], b"short");
        // Slices share the buffer; it is released when the last one goes.
        let part = second.slice(1..3);
        drop(second);
        assert_eq!(pooled(), before);
        assert_eq!(&part[..], b"ho");
        drop(part);
        assert_eq!(pooled(), before + 1);
    }

    #[test]
    fn large_buffers_and_a_full_pool_are_freed() {
        let before = pooled();
        drop(copy(&vec![1; LARGEST + 1]));
        assert_eq!(pooled(), before, "a large buffer is not kept");
        let many: Vec<Bytes> = (0..KEEP + 4).map(|i| copy(&[i as u8; 64])).collect();
        drop(many);
        assert_eq!(pooled(), KEEP);
    }
}
