//! The C ABI's result names and its refusal of null arguments, called from
//! Rust. (The example camera in C runs against the real server in the
//! end-to-end crate: `tests/tests/c_example.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn result_names_and_null_arguments() {
    use sealcam_device_ffi::*;
    use std::ffi::CStr;
    let name = |r: i32| {
        // SAFETY (test): the function returns static NUL-terminated strings.
        #[allow(unsafe_code)]
        unsafe { CStr::from_ptr(sealcam_result_name(r)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(name(0), "SEALCAM_OK");
    assert_eq!(name(22), "SEALCAM_RECIPIENT_SET_REFUSED");
    assert_eq!(name(-7), "SEALCAM_UNKNOWN");
    #[allow(unsafe_code)]
    let r = unsafe { sealcam_device_open(std::ptr::null(), std::ptr::null_mut()) };
    assert_eq!(r, sealcam_result::SEALCAM_NULL_ARGUMENT);
    #[allow(unsafe_code)]
    let r = unsafe { sealcam_device_sync(std::ptr::null(), std::ptr::null_mut()) };
    assert_eq!(r, sealcam_result::SEALCAM_NULL_ARGUMENT);
}
