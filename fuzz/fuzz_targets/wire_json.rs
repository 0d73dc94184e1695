#![no_main]
//! Every JSON answer a camera or an app parses from a server it does not
//! trust (sealcam-wire): the parser must refuse or accept, never panic, and
//! what it accepts must serialize and parse back to the same value.
use libfuzzer_sys::fuzz_target;
use sealcam_wire::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn check<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let json = serde_json::to_vec(&value).expect("parsed values serialize");
        let again: T = serde_json::from_slice(&json).expect("serialized values parse");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    check::<EnrollResponse>(data);
    check::<LinkResponse>(data);
    check::<DeviceList>(data);
    check::<AccountInfo>(data);
    check::<PairingResponse>(data);
    check::<RegisterCameraResponse>(data);
    check::<CameraList>(data);
    check::<CameraSelf>(data);
    check::<RecipientSet>(data);
    check::<ShareList>(data);
    check::<ErrorBody>(data);
    check::<UploadResponse>(data);
    check::<Event>(data);
    check::<EventPage>(data);
});
