//! The C ABI of sealcam's device SDK (work in progress).
