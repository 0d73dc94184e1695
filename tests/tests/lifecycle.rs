//! Scenario 5: revocation, sharing, a history grant and recovery across the
//! whole system — an owner with a phone and a tablet, a household member
//! with an account of their own, one camera (device SDK), the real server.
//! Who can open what is checked at every step with the app SDK, and with the
//! raw keys where the server would refuse the request anyway (a revoked or
//! unshared viewer must be unable to decrypt, not merely be turned away).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use sealcam_client::codes::{Code as _, ShareCode};
use sealcam_client::{Client, ClientError, Home};
use sealcam_device::{Device, EventRecord, NewEvent, SyncOutcome};
use sealcam_e2e::{fast_device_config, media, Harness, Owner};
use sealcam_format::{open_to_vec, Binding, OpenError};
use sealcam_keys::{CameraId, DevicePublicKey, EventId, ViewerIdentity};
use sealcam_wire::PartKind;

struct World {
    h: Harness,
    owner: Owner,
    camera: CameraId,
    device_key: DevicePublicKey,
    events: BTreeMap<&'static str, (EventId, Vec<u8>)>,
    /// The owner device that downloads raw bytes for [`World::key_opens`].
    downloader: Client,
}

impl World {
    fn record(&mut self, cam: &mut Device, name: &'static str) {
        assert!(matches!(
            cam.sync().unwrap(),
            SyncOutcome::Updated { .. } | SyncOutcome::Unchanged { .. }
        ));
        let thumb = media::thumbnail(self.events.len() as u64 + 7, 1000);
        let report = cam
            .record(
                NewEvent::now()
                    .thumbnail(&thumb)
                    .record(&EventRecord::new("person")),
            )
            .unwrap();
        self.events.insert(name, (report.event, thumb));
    }

    /// Opens `name`'s thumbnail with the app SDK as `client`.
    fn fetch(&self, client: &Client, name: &str) -> Result<Vec<u8>, ClientError> {
        let (event, _) = self.events[name];
        self.h.rt.block_on(async {
            let obj = client.open_part(event, PartKind::Thumbnail).await?;
            obj.read_range(0..obj.body_len()).await
        })
    }

    /// Whether `viewer`'s key alone decrypts `name` (bytes fetched by the owner).
    fn key_opens(&self, viewer: &ViewerIdentity, name: &str) -> Result<Vec<u8>, OpenError> {
        let (event, _) = self.events[name];
        let api = self.downloader.api();
        let id = *event.as_uuid();
        let rt = &self.h.rt;
        let header = rt
            .block_on(api.part_header(id, PartKind::Thumbnail))
            .unwrap();
        let len = rt.block_on(api.event(id)).unwrap().parts[0].payload_size;
        let payload = rt
            .block_on(api.payload_range_vec(id, PartKind::Thumbnail, 0..len))
            .unwrap();
        let binding = Binding {
            owner: self.owner.account(),
            camera: self.camera,
            event,
            kind: sealcam_format::PartKind::Thumbnail,
            sequence: 0,
        };
        open_to_vec(&header, &payload, &[viewer], &binding, &self.device_key).map(|o| o.body)
    }

    fn plain(&self, name: &str) -> &[u8] {
        &self.events[name].1
    }
}

#[test]
fn revocation_sharing_history_and_recovery() {
    let h = Harness::start().unwrap();
    let owner = h.owner("owner").unwrap();
    let member = h.owner("member").unwrap();
    let mut cam = h.camera(&owner, "hall", fast_device_config()).unwrap();
    let camera = cam.camera_id().unwrap();
    let device_key = cam.device_public_key().unwrap();
    let tablet_home = Home::at(h.path("home-tablet"));
    let request = sealcam_client::link_request(&tablet_home, &h.url(), "tablet").unwrap();
    let approval = h.rt.block_on(owner.client.approve(&request)).unwrap();
    let tablet =
        h.rt.block_on(sealcam_client::link_finish(
            &tablet_home,
            &approval.approval,
        ))
        .unwrap();
    let mut w = World {
        h,
        camera,
        device_key,
        events: BTreeMap::new(),
        downloader: owner.client.clone(),
        owner,
    };
    let mut opened = BTreeMap::<&str, u32>::new();
    let mut ok = |who: &'static str| *opened.entry(who).or_default() += 1;

    // A: the owner's phone and tablet open it; the member (not shared yet) cannot.
    w.record(&mut cam, "a");
    assert_eq!(w.fetch(&w.owner.client, "a").unwrap(), w.plain("a"));
    ok("owner phone");
    assert_eq!(w.fetch(&tablet, "a").unwrap(), w.plain("a"));
    ok("tablet");
    assert!(matches!(
        w.fetch(&member.client, "a"),
        Err(ClientError::NotFound { .. })
    ));
    assert!(matches!(
        w.key_opens(&member.client.device().viewer, "a"),
        Err(OpenError::NotAddressedToViewer)
    ));

    // Sharing: B opens for the member; A does not, until a history grant.
    let shared =
        w.h.rt
            .block_on(w.owner.client.share(camera, &member.client.member_code()))
            .unwrap();
    let code = ShareCode::from_text(&shared.share_code).unwrap();
    w.h.rt.block_on(member.client.accept_share(&code)).unwrap();
    w.record(&mut cam, "b");
    assert_eq!(w.fetch(&member.client, "b").unwrap(), w.plain("b"));
    ok("member");
    assert!(
        w.fetch(&member.client, "a").unwrap_err().is_misdelivery(),
        "an event recorded before the share opened for the member"
    );
    let member_key = member.account().as_uuid().to_string();
    let grant =
        w.h.rt
            .block_on(
                w.owner
                    .client
                    .grant_history(&member_key, 1, Some(camera), &|_| {}),
            )
            .unwrap();
    assert!(grant.rewrapped >= 2, "{grant:?}");
    assert_eq!(w.fetch(&member.client, "a").unwrap(), w.plain("a"));
    ok("member");
    // The re-wrap kept the camera's signature: the owner still opens A.
    assert_eq!(w.fetch(&w.owner.client, "a").unwrap(), w.plain("a"));
    ok("owner phone");

    // Revoking the tablet: C is closed to it (its credential is gone, and its
    // key does not decrypt C), while it could open A.
    let revoked =
        w.h.rt
            .block_on(w.owner.client.revoke_viewer("tablet"))
            .unwrap();
    assert!(revoked.device_deleted);
    w.record(&mut cam, "c");
    assert!(matches!(
        w.fetch(&tablet, "c"),
        Err(ClientError::Unauthorized)
    ));
    let tablet_key = &tablet.device().viewer;
    assert!(matches!(
        w.key_opens(tablet_key, "c"),
        Err(OpenError::NotAddressedToViewer)
    ));
    assert_eq!(w.key_opens(tablet_key, "a").unwrap(), w.plain("a"));
    assert_eq!(w.fetch(&member.client, "c").unwrap(), w.plain("c"));
    ok("member");

    // Unsharing: D is closed to the member, by the server and by the keys.
    w.h.rt
        .block_on(w.owner.client.unshare(camera, *member.account().as_uuid()))
        .unwrap();
    w.record(&mut cam, "d");
    assert!(matches!(
        w.fetch(&member.client, "d"),
        Err(ClientError::NotFound { .. })
    ));
    assert!(matches!(
        w.key_opens(&member.client.device().viewer, "d"),
        Err(OpenError::NotAddressedToViewer)
    ));
    assert_eq!(w.fetch(&w.owner.client, "d").unwrap(), w.plain("d"));
    ok("owner phone");

    // Every device lost: the recovery key alone restores the account and
    // every recording, and new recordings open on the recovered device.
    let new_home = Home::at(w.h.path("home-recovered"));
    let recovered =
        w.h.rt
            .block_on(sealcam_client::recover(
                &new_home,
                &w.h.url(),
                &w.owner.recovery_key,
                "new phone",
                true,
            ))
            .unwrap();
    let new_phone = recovered.client;
    w.downloader = new_phone.clone();
    for name in ["a", "b", "c", "d"] {
        assert_eq!(w.fetch(&new_phone, name).unwrap(), w.plain(name), "{name}");
        ok("recovered phone");
    }
    w.record(&mut cam, "e");
    assert_eq!(w.fetch(&new_phone, "e").unwrap(), w.plain("e"));
    ok("recovered phone");
    // The lost phone was revoked by the recovery: turned away, and its key
    // does not decrypt what the camera recorded since.
    assert!(matches!(
        w.fetch(&w.owner.client, "e"),
        Err(ClientError::Unauthorized)
    ));
    assert!(matches!(
        w.key_opens(&w.owner.client.device().viewer, "e"),
        Err(OpenError::NotAddressedToViewer)
    ));
    let _ = w.key_opens(&new_phone.device().viewer, "e").unwrap();

    let summary: Vec<String> = opened.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "lifecycle: {} events, opened by {}; history grant re-wrapped {} parts; revoked tablet, unshared member and lost phone opened 0 events recorded after they lost access",
        w.events.len(),
        summary.join(", "),
        grant.rewrapped
    );
}
