//! A camera with recorded events: where the API scenarios that list, read,
//! share and delete media start from.

use sealcam_wire::PartKind;
use uuid::Uuid;

use super::{bytes, now, start_on, Backend, CameraCred, TestServer, ViewerCred};

/// A server with an owner (account `household`), a confirmed camera and
/// three events it uploaded.
pub struct Seeded {
    pub t: TestServer,
    pub owner: ViewerCred,
    pub cam: CameraCred,
    /// Oldest first, two minutes apart: each has a thumbnail (20,000 bytes
    /// of `bytes(i, …)`) and a record; the newest a clip too.
    pub events: Vec<Uuid>,
    /// The newest event's clip (3 MiB and a bit: it streams).
    pub clip: Vec<u8>,
    /// The minute boundary the events are captured after.
    pub t0: i64,
}

/// Starts a server on `backend` and uploads the events; `None` when the
/// backend is skipped (see [`start_on`]).
pub async fn seeded(backend: Backend, test: &str) -> Option<Seeded> {
    let t = start_on(backend, test, |_| {}).await?;
    let owner = t.new_viewer("household").await;
    let cam = t.pair_camera(&owner).await;

    // Upload three events, parts of each kind; one clip big enough to stream.
    // A minute boundary, so coarsening to the minute is predictable.
    let t0 = (now() - 3600) / 60 * 60;
    let events: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let clip = bytes(42, 3 * 1024 * 1024 + 17);
    for (i, event) in events.iter().enumerate() {
        let at = t0 + i as i64 * 120 + 7;
        let up = t
            .upload_ok(
                &cam,
                *event,
                PartKind::Thumbnail,
                b"age-header-thumb",
                &bytes(i as u64, 20_000),
                at,
            )
            .await;
        assert!(up.created);
        assert_eq!(up.header_size, 16);
        assert_eq!(up.payload_size, 20_000);
        t.upload_ok(
            &cam,
            *event,
            PartKind::Record,
            b"age-header-rec",
            b"record",
            at,
        )
        .await;
    }
    t.upload_ok(
        &cam,
        events[2],
        PartKind::Clip,
        b"age-header-clip",
        &clip,
        t0,
    )
    .await;
    Some(Seeded {
        t,
        owner,
        cam,
        events,
        clip,
        t0,
    })
}

impl Seeded {
    /// The newest event's clip: `/v1/events/{id}/parts/clip`.
    pub fn clip_part(&self) -> String {
        format!("/v1/events/{}/parts/clip", self.events[2])
    }

    /// The camera's event list: `/v1/cameras/{id}/events`.
    pub fn list_path(&self) -> String {
        format!("/v1/cameras/{}/events", self.cam.camera_id)
    }

    /// The camera's recipient set: `/v1/cameras/{id}/recipient-set`.
    pub fn set_path(&self) -> String {
        format!("/v1/cameras/{}/recipient-set", self.cam.camera_id)
    }
}
