//! A per-account storage quota: a household's camera records until the next
//! upload would pass the quota; that one is answered `507 quota_exceeded`
//! before its body is read and stays in the camera's spool; another
//! household is not affected; once the owner deletes events, the drain
//! delivers what waited.

use sealcam_e2e::household::{Camera, Household, PHONE};
use sealcam_e2e::media;

const QUOTA: u64 = 200_000;

fn record(h: &Household, cam: &Camera, seed: u64) -> (String, String) {
    let file = h.path(&format!("q{seed}.jpg"));
    std::fs::write(&file, media::bytes(seed, 20 * 1024)).unwrap();
    let run = h
        .device(cam, &["record", "--thumbnail", file.to_str().unwrap()])
        .unwrap()
        .checked()
        .unwrap();
    (run.stdout.trim().to_owned(), run.stderr)
}

#[test]
fn an_account_over_its_quota_is_refused_and_others_are_not() {
    let quota = QUOTA.to_string();
    let h =
        Household::start_configured(&[("SEALCAM__LIMITS__ACCOUNT_QUOTA_BYTES", quota.as_ref())])
            .unwrap();
    let cam = h.pair_camera(PHONE, "porch").unwrap();
    let mut stored = Vec::new();
    let refused = loop {
        let (event, said) = record(&h, &cam, stored.len() as u64 + 1);
        if said.contains("spooled thumbnail") {
            assert!(said.contains("quota"), "{said}");
            break event;
        }
        assert!(said.contains("uploaded thumbnail"), "{said}");
        stored.push(event);
        assert!(stored.len() < 20, "the quota never applied");
    };

    // Another household on the same server uploads as usual.
    h.other_account("neighbour").unwrap();
    let other = h.pair_camera("neighbour", "gate").unwrap();
    let (_, said) = record(&h, &other, 99);
    assert!(said.contains("uploaded thumbnail"), "{said}");

    // The owner makes room; the waiting part goes up.
    for event in &stored[..2] {
        h.sealcam(PHONE, &["events", "delete", event])
            .unwrap()
            .checked()
            .unwrap();
    }
    let drained = h
        .device(&cam, &["drain", "--max-wait", "10"])
        .unwrap()
        .checked()
        .unwrap();
    assert!(drained.stderr.contains("delivered 1"), "{drained}");
    let ids = h.event_ids(PHONE).unwrap();
    assert!(ids.contains(&refused));
    assert_eq!(ids.len(), stored.len() - 2 + 1);
    println!(
        "hardening: quota: account_quota_bytes = {QUOTA}: {} events stored, the next answered 507 quota_exceeded and was spooled; \
         another household uploaded as usual; after 2 deletes the drain delivered it",
        stored.len()
    );
}
