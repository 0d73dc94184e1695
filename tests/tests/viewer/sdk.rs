//! The app SDK's batch read (`open_small_many`): every thumbnail in order,
//! each checked as `open_small` checks it, a misdelivered one refused in its
//! place without stopping the others.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use sealcam_client::{ClientError, SmallPart};
use sealcam_e2e::proxy::FnHook;
use sealcam_e2e::Reply;
use sealcam_wire::PartKind;

use super::World;

#[test]
fn a_page_of_thumbnails_opens_in_order_and_a_swapped_one_is_refused_in_its_place() {
    let (mut w, mut cam) = World::start();
    let sealed: Vec<_> = (0..6).map(|_| w.record(&mut cam, None, 0)).collect();
    let client = w.owner.client.clone();
    let listed = w.h.rt.block_on(client.events(&Default::default())).unwrap();
    let parts: Vec<SmallPart> = sealed
        .iter()
        .map(|s| {
            let e = listed.iter().find(|e| e.event_id == s.event).unwrap();
            e.small_part(PartKind::Thumbnail).unwrap()
        })
        .collect();
    let open_all = || -> Vec<Result<Vec<u8>, ClientError>> {
        w.h.rt.block_on(
            client
                .open_small_many(parts.clone())
                .map(|r| r.map(|o| o.body.to_vec()))
                .collect(),
        )
    };
    let bodies = open_all();
    for (got, want) in bodies.iter().zip(&sealed) {
        assert_eq!(got.as_ref().unwrap(), &want.thumbnail);
    }

    // The cache answers the third thumbnail with the fifth's bytes.
    let fifth: Bytes =
        w.h.rt
            .block_on(client.api().part_whole(
                *sealed[4].event.as_uuid(),
                PartKind::Thumbnail,
                1 << 20,
            ))
            .unwrap()
            .into();
    let third = format!("/v1/events/{}/parts/thumbnail", sealed[2].event);
    w.h.proxy.set_hook(Arc::new(FnHook::answering(move |req| {
        (req.path == third).then(|| Reply::new(200, fifth.clone()))
    })));
    let bodies = open_all();
    w.h.proxy.clear_hook();
    let outcome: Vec<&str> = bodies
        .iter()
        .map(|b| match b {
            Ok(_) => "verified",
            Err(ClientError::Misdelivered(_)) => "misdelivered",
            Err(_) => "other error",
        })
        .collect();
    println!(
        "sdk: tried the fifth thumbnail's bytes in answer to the third, through open_small_many: {outcome:?}"
    );
    assert_eq!(
        outcome,
        [
            "verified",
            "verified",
            "misdelivered",
            "verified",
            "verified",
            "verified"
        ]
    );
    for (i, (got, want)) in bodies.iter().zip(&sealed).enumerate() {
        if i != 2 {
            assert_eq!(got.as_ref().unwrap(), &want.thumbnail);
        }
    }
}
