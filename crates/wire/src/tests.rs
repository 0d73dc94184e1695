use super::*;

#[test]
fn part_kind_round_trips() {
    for kind in PartKind::ALL {
        assert_eq!(kind.as_str().parse::<PartKind>(), Ok(kind));
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{kind}\""));
    }
    assert!("video".parse::<PartKind>().is_err());
}

#[test]
fn trust_v2_fields_are_optional_on_the_wire() {
    // Old shapes still parse, and new fields are left out when unset.
    let set: RecipientSet = serde_json::from_str(r#"{"epoch":3,"set":"AA=="}"#).unwrap();
    assert_eq!((set.key_log.as_deref(), set.supersede), (None, false));
    assert_eq!(
        serde_json::to_string(&set).unwrap(),
        r#"{"epoch":3,"set":"AA=="}"#
    );
    let set = RecipientSet {
        key_log: Some("AQ==".into()),
        supersede: true,
        ..set
    };
    assert_eq!(
        serde_json::to_string(&set).unwrap(),
        r#"{"epoch":3,"set":"AA==","key_log":"AQ==","supersede":true}"#
    );
    let req: EnrollRequest =
        serde_json::from_str(r#"{"token":"scl_x","device_name":"laptop"}"#).unwrap();
    assert_eq!(req.viewer_key, None);
    let link: LinkRequest = serde_json::from_str("{}").unwrap();
    assert_eq!(link, LinkRequest::default());
    assert_eq!(serde_json::to_string(&link).unwrap(), "{}");
}

#[test]
fn error_body_shape() {
    let body = ErrorBody {
        error: ErrorDetail {
            code: ErrorCode::StaleEpoch,
            message: "m".into(),
        },
    };
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"error":{"code":"stale_epoch","message":"m"}}"#
    );
}

/// A newer server's code still reads as an error body (a camera then tells
/// the server's own 401 or 403 from a proxy's page, which has none).
#[test]
fn an_unknown_error_code_still_reads_as_an_error_body() {
    let body: ErrorBody = serde_json::from_str(
        r#"{"error":{"code":"camera_suspended","message":"x","hint":"new field"}}"#,
    )
    .unwrap();
    assert_eq!(body.error.code, ErrorCode::Unknown);
    assert!(serde_json::from_str::<ErrorBody>("<html>403 Forbidden</html>").is_err());
}
