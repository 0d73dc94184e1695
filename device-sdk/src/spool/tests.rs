use super::*;

fn put(spool: &mut Spool, kind: PartKind, len: usize) -> (EventId, Vec<Loss>) {
    let event = EventId::now_v7();
    let mut s = spool.stage(event, kind, 1_700_000_000, 10).unwrap();
    s.append(&vec![7u8; len]).unwrap();
    (event, spool.commit(s).unwrap())
}

#[test]
fn survives_reopen_in_order_and_drops_partials() {
    let dir = tempfile::tempdir().unwrap();
    let limits = SpoolLimits::default();
    let mut spool = Spool::open(dir.path(), limits).unwrap();
    let (a, _) = put(&mut spool, PartKind::Thumbnail, 100);
    let (b, _) = put(&mut spool, PartKind::Clip, 1000);
    let mut partial = spool
        .stage(EventId::now_v7(), PartKind::Clip, 0, 10)
        .unwrap();
    partial.append(b"half").unwrap();
    std::mem::forget(partial); // a crash: the partial file stays
    drop(spool);
    let spool = Spool::open(dir.path(), limits).unwrap();
    let got: Vec<_> = spool.entries().iter().map(|e| (e.event, e.kind)).collect();
    assert_eq!(got, vec![(a, PartKind::Thumbnail), (b, PartKind::Clip)]);
    assert_eq!(spool.entries()[1].object_len, 1000);
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
    let mut body = Vec::new();
    spool.entries()[0]
        .open_object()
        .unwrap()
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, vec![7u8; 100]);
}

#[test]
fn full_spool_evicts_oldest_clips_first_and_keeps_thumbnails_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let limits = SpoolLimits {
        max_bytes: 1000,
        max_entries: 100,
    };
    let mut spool = Spool::open(dir.path(), limits).unwrap();
    let (t1, _) = put(&mut spool, PartKind::Thumbnail, 100);
    let (c1, _) = put(&mut spool, PartKind::Clip, 400);
    let (r1, _) = put(&mut spool, PartKind::Record, 50);
    let (c2, _) = put(&mut spool, PartKind::Clip, 400);
    // 950 used; a new 300-byte clip evicts the oldest clip only.
    let (c3, losses) = put(&mut spool, PartKind::Clip, 300);
    assert_eq!(losses.len(), 1);
    assert_eq!(
        (losses[0].event, losses[0].reason),
        (c1, LossReason::Evicted)
    );
    // A clip larger than the spool is lost at once.
    let (big, losses) = put(&mut spool, PartKind::Clip, 2000);
    assert_eq!(
        (losses[0].event, losses[0].reason),
        (big, LossReason::TooLarge)
    );
    // A thumbnail that needs room evicts clips (c2, then c3) before any thumbnail.
    let (t2, losses) = put(&mut spool, PartKind::Thumbnail, 700);
    let evicted: Vec<_> = losses.iter().map(|l| l.event).collect();
    assert_eq!(evicted, vec![c2, c3]);
    let kept: Vec<_> = spool.entries().iter().map(|e| e.event).collect();
    assert_eq!(kept, vec![t1, r1, t2]);
    // A clip that cannot fit beside the thumbnails and records is dropped, not them.
    let (c4, losses) = put(&mut spool, PartKind::Clip, 300);
    assert_eq!((losses[0].event, losses[0].kind), (c4, PartKind::Clip));
    assert_eq!(spool.entries().len(), 3);
    // Records then evict the oldest thumbnail/record when nothing else is left.
    let (_, losses) = put(&mut spool, PartKind::Record, 200);
    assert_eq!(losses[0].event, t1);
}
