//! Secret key files: written atomically with mode 0600, refused when others can read them.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use crate::KeyError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `contents` to `path` with mode 0600: into a new temporary file in
/// the same directory, fsynced, renamed over `path`, then the directory
/// fsynced, so a crash leaves either the old file or the new one.
///
/// The temporary file has a random name and is created exclusively
/// (`O_CREAT|O_EXCL`): a file or symlink planted at a guessable name is
/// never opened, so the secret cannot be written through it.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut random = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{name}.{suffix}.tmp"));
    let mut created = false;
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        created = true;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() && created {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

/// Reads a secret file, refusing it when its mode lets group or others read or write it.
pub fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mode = f.metadata().map_err(io(path))?.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    let mut buf = Zeroizing::new(Vec::new());
    f.read_to_end(&mut buf).map_err(io(path))?;
    Ok(buf)
}

/// Reads a secret text file (see [`read`]).
pub fn read_to_string(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let bytes = read(path)?;
    let s = std::str::from_utf8(&bytes).map_err(|_| KeyError::Encoding)?;
    Ok(Zeroizing::new(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn written_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        write(&p, b"secret").unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(&read(&p).unwrap()[..], b"secret");
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let outside = dir.path().join("outside");
        // Whatever name an attacker guesses, the writer creates its own.
        for guess in [
            ".k.tmp",
            ".k.tmp0",
            &format!(".k.tmp{}", std::process::id()),
        ] {
            std::os::unix::fs::symlink(&outside, dir.path().join(guess)).unwrap();
        }
        write(&p, b"secret").unwrap();
        assert!(
            !outside.exists(),
            "the secret was written through a symlink"
        );
        assert_eq!(&read(&p).unwrap()[..], b"secret");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn world_readable_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        write(&p, b"secret").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        match read(&p) {
            Err(KeyError::InsecurePermissions { mode, .. }) => assert_eq!(mode, 0o644),
            other => panic!("expected InsecurePermissions, got {other:?}"),
        }
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            read(&p),
            Err(KeyError::InsecurePermissions { .. })
        ));
    }
}
