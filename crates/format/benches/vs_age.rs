//! sealcam against the stock Go `age`, each as a whole process from file to
//! file, on the same input and the same four recipients (made by
//! `age-keygen`). Run through `scripts/bench-vs-age.sh`, which installs
//! Debian's `age` when it is missing:
//!
//! ```text
//! scripts/bench-vs-age.sh                  # 256 MiB, 7 rounds
//! SEALCAM_VS_AGE_MIB=64 SEALCAM_VS_AGE_ROUNDS=3 scripts/bench-vs-age.sh
//! ```
//!
//! - seal: `age -e -r R1 … -r R4 -o OUT IN` against sealing IN as a clip (the
//!   format's padding, inner header, chunk hashes and signature included) to
//!   a header file and a payload file;
//! - open: `age -d -i ID1 -o OUT IN` against opening the sealed object with
//!   the verified seekable reader (addressee, binding, signature and every
//!   chunk checked) and writing the body out (`VerifiedReader::copy_to`).
//!
//! The programs alternate round by round, so a slow spell hits both, and the
//! median of the rounds is compared. The files live on tmpfs (`/dev/shm`)
//! where there is one. The sealcam side is this binary run again as a child
//! (`SEALCAM_VS_AGE_CHILD`), so its process start is counted as age's is.
//! Last, the floor: ChaCha20-Poly1305 in place and BLAKE3 over the same
//! bytes in memory, in this process. Nothing is asserted: the figures are
//! what it prints.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use sealcam_format::open::Seekable;
use sealcam_format::stream::aead::{Aead, BACKEND};
use sealcam_format::{open, seal, Binding, FollowedKey, ObjectMeta, PartKind, Sealer};
use sealcam_keys::{
    CameraId, DeviceKey, EventId, OwnerId, OwnerSigningKey, RecipientSet, RecipientSetPin,
    ViewerIdentity,
};

const CHILD: &str = "SEALCAM_VS_AGE_CHILD";

fn binding() -> Binding {
    Binding {
        owner: OwnerId::from_str("0192f3a0-0000-7000-8000-000000000001").unwrap(),
        camera: CameraId::from_str("0192f3a0-0000-7000-8000-000000000002").unwrap(),
        event: EventId::from_str("0192f3a0-0000-7000-8000-000000000003").unwrap(),
        kind: PartKind::Clip,
        sequence: 0,
    }
}

fn device() -> DeviceKey {
    DeviceKey::from_seed(&[1; 32])
}

/// The identities `age-keygen` wrote, one `AGE-SECRET-KEY-1…` line each.
fn identities(dir: &Path) -> Vec<ViewerIdentity> {
    (0..4)
        .map(|i| {
            let text = std::fs::read_to_string(dir.join(format!("id{i}.txt"))).unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .unwrap();
            ViewerIdentity::from_secret_text(line).unwrap()
        })
        .collect()
}

/// The child: `seal IN OUT` (OUT.hdr and OUT) or `open OUT.hdr OUT BODY`.
fn child(mode: &str, args: &[String]) {
    let dir = Path::new(&args[0]);
    let ids = identities(dir);
    let b = binding();
    match mode {
        "seal" => {
            let owner_key = OwnerSigningKey::from_seed(&[2; 32]);
            let pin = RecipientSetPin {
                owner: b.owner,
                camera: b.camera,
                owner_key: owner_key.public(),
            };
            let set = RecipientSet::new(
                b.owner,
                b.camera,
                1,
                ids.iter().map(|v| v.to_public()).collect(),
            )
            .unwrap()
            .sign(&owner_key)
            .verify(&pin)
            .unwrap();
            let key = device();
            let meta = ObjectMeta {
                binding: b,
                captured_at_ms: 0,
                epoch: 0,
                followed: Some(FollowedKey {
                    position: (1, 0),
                    key: [7; 32],
                }),
                content_type: "video/mp4".into(),
            };
            let sealer = Sealer::new(&set, &key, meta).unwrap();
            let mut input = File::open(&args[1]).unwrap();
            let out = BufWriter::with_capacity(1 << 20, File::create(&args[2]).unwrap());
            let (header, out) = seal(sealer, &mut input, out).unwrap();
            out.into_inner().unwrap().sync_data().ok();
            std::fs::write(format!("{}.hdr", args[2]), header).unwrap();
        }
        "open" => {
            let header = std::fs::read(&args[1]).unwrap();
            let payload = Seekable(File::open(&args[2]).unwrap());
            let mut body = open(&header, payload, &[&ids[0]], &b, &device().public()).unwrap();
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&args[3]).unwrap());
            body.copy_to(&mut out).unwrap();
            out.flush().unwrap();
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn run(cmd: &mut Command) -> f64 {
    let t = Instant::now();
    let status = cmd.status().unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(status.success(), "{cmd:?} failed: {status}");
    secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn same_file(a: &Path, b: &Path) -> bool {
    let hash = |p: &Path| {
        let mut h = blake3::Hasher::new();
        h.update_reader(File::open(p).unwrap()).unwrap();
        h.finalize()
    };
    hash(a) == hash(b)
}

fn work_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new()
            .prefix("sealcam-vs-age")
            .tempdir_in(shm)
        {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

/// ChaCha20-Poly1305 in place plus BLAKE3 per 64 KiB chunk, in memory: the
/// work any design does per byte. Seconds for `buf`.
fn floor(buf: &mut [u8]) -> f64 {
    let aead = Aead::new(&[7u8; 32]);
    let t = Instant::now();
    for (i, chunk) in buf.chunks_mut(64 * 1024).enumerate() {
        std::hint::black_box(blake3::hash(chunk));
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        std::hint::black_box(aead.seal(nonce, chunk));
    }
    t.elapsed().as_secs_f64()
}

fn main() {
    if let Ok(mode) = std::env::var(CHILD) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return child(&mode, &args);
    }
    let mib: usize = std::env::var("SEALCAM_VS_AGE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let rounds: usize = std::env::var("SEALCAM_VS_AGE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let age_version = match Command::new("age").arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => {
            eprintln!(
                "vs_age: the stock `age` is not on PATH; scripts/bench-vs-age.sh installs it"
            );
            std::process::exit(1);
        }
    };
    let tmp = work_dir();
    let dir = tmp.path();
    let mut recipients = Vec::new();
    for i in 0..4 {
        let id = dir.join(format!("id{i}.txt"));
        run(Command::new("age-keygen")
            .arg("-o")
            .arg(&id)
            .stderr(std::process::Stdio::null()));
        let out = Command::new("age-keygen")
            .arg("-y")
            .arg(&id)
            .output()
            .unwrap();
        recipients.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
    }
    let input = dir.join("clip.mp4");
    let mut data = vec![0u8; mib << 20];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(&input, &data).unwrap();
    let me = std::env::current_exe().unwrap();
    let path = |name: &str| -> PathBuf { dir.join(name) };

    let age_seal = || {
        let mut c = Command::new("age");
        c.arg("-e");
        for r in &recipients {
            c.arg("-r").arg(r);
        }
        c.arg("-o").arg(path("age.out")).arg(&input);
        run(&mut c)
    };
    let age_open = || {
        run(Command::new("age")
            .args(["-d", "-i"])
            .arg(path("id0.txt"))
            .arg("-o")
            .arg(path("age.plain"))
            .arg(path("age.out")))
    };
    let ours =
        |mode: &str, args: &[PathBuf]| run(Command::new(&me).env(CHILD, mode).arg(dir).args(args));
    let our_seal = || ours("seal", &[input.clone(), path("obj")]);
    let our_open = || ours("open", &[path("obj.hdr"), path("obj"), path("obj.plain")]);

    println!(
        "vs_age: {mib} MiB, 4 recipients, {rounds} rounds, files in {}; {age_version} against sealcam ({BACKEND})",
        dir.display()
    );
    let (mut a_seal, mut s_seal, mut a_open, mut s_open) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        // Alternate who goes first.
        if round % 2 == 0 {
            a_seal.push(age_seal());
            s_seal.push(our_seal());
            a_open.push(age_open());
            s_open.push(our_open());
        } else {
            s_seal.push(our_seal());
            a_seal.push(age_seal());
            s_open.push(our_open());
            a_open.push(age_open());
        }
    }
    assert!(
        same_file(&input, &path("age.plain")),
        "age round trip differs"
    );
    assert!(
        same_file(&input, &path("obj.plain")),
        "sealcam round trip differs"
    );
    // The stock age opens the sealcam object too (header ‖ payload).
    let mut joined = std::fs::read(path("obj.hdr")).unwrap();
    File::open(path("obj"))
        .unwrap()
        .read_to_end(&mut joined)
        .unwrap();
    std::fs::write(path("obj.age"), &joined).unwrap();
    drop(joined);
    run(Command::new("age")
        .args(["-d", "-i"])
        .arg(path("id0.txt"))
        .arg("-o")
        .arg(path("obj.age.plain"))
        .arg(path("obj.age")));
    println!(
        "vs_age: both round trips give the input back; stock `age -d` opens the sealcam object"
    );

    let mb = (mib << 20) as f64 / 1e6;
    let floors: Vec<f64> = (0..rounds.min(5)).map(|_| floor(&mut data)).collect();
    let floor_s = median(floors);
    for (what, a, s) in [("seal", a_seal, s_seal), ("open", a_open, s_open)] {
        let (a, s) = (median(a), median(s));
        println!(
            "vs_age: {what}: age {a:.3} s ({:.0} MB/s), sealcam {s:.3} s ({:.0} MB/s): sealcam ÷ age throughput {:.2}× (target ≥ 1.3); ÷ floor {:.2}",
            mb / a,
            mb / s,
            a / s,
            floor_s / s
        );
    }
    println!(
        "vs_age: floor (ChaCha20-Poly1305 from {BACKEND} + BLAKE3, in memory) {floor_s:.3} s ({:.0} MB/s)",
        mb / floor_s
    );
}
