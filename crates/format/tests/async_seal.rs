//! Sealing from an `AsyncRead` into an `AsyncWrite` (feature `tokio`) gives an
//! object that opens like one sealed synchronously.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bytes, World};
use sealcam_format::{open_to_vec, seal_async, Sealer};

#[tokio::test]
async fn async_seal_round_trips() {
    let w = World::new(2);
    for size in [0usize, 20_000, 65_536, 300_001] {
        let body = bytes(size, 11);
        let sealer = Sealer::new(&w.set, &w.device, w.meta()).unwrap();
        let mut payload = Vec::new();
        let (header, written) = seal_async(sealer, &mut &body[..], &mut payload)
            .await
            .unwrap();
        assert_eq!(written, payload.len() as u64);
        let o = open_to_vec(
            &header,
            &payload,
            &[&w.viewers[1]],
            &w.binding,
            &w.device.public(),
        )
        .unwrap();
        assert_eq!(o.body, body, "size {size}");
    }
}
