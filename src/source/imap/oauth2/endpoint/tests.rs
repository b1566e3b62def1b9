//! The crate's requests and answers as the providers and tests/util/fakeauth.rs see them.

use super::*;
use crate::config::oauth2::{Mechanism, TokenStore};
use oauth2::basic::BasicErrorResponse;
use reqwest::StatusCode;

fn cfg(provider: Provider) -> OAuth2Config {
    OAuth2Config {
        account: "gmail".into(),
        provider,
        client_id: "id-1".into(),
        client_secret: None,
        scopes: vec!["https://mail.google.com/".into()],
        auth_url: "https://accounts.example/auth".into(),
        token_url: "https://accounts.example/token".into(),
        device_url: None,
        mechanism: Mechanism::XOAuth2,
        store: TokenStore::File("gmail.json".into()),
    }
}

/// The S256 check of tests/util/fakeauth.rs (and of the providers): BASE64URL(SHA256(v)).
fn s256(verifier: &str) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

#[test]
fn the_sign_in_address_carries_the_challenge_of_our_verifier() {
    let a = authorization(&cfg(Provider::Google), "http://127.0.0.1:4711/").unwrap();
    let q: std::collections::HashMap<String, String> = a.url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge"], s256(a.verifier.secret()));
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], *a.state.secret());
    assert_eq!(q["redirect_uri"], "http://127.0.0.1:4711/");
    assert_eq!(q["client_id"], "id-1");
    assert_eq!(q["response_type"], "code");
    assert_eq!(
        (q["access_type"].as_str(), q["prompt"].as_str()),
        ("offline", "consent")
    );
    // 32 and 16 random bytes, base64url: a new pair and state for each sign-in.
    assert_eq!(
        (a.verifier.secret().len(), a.state.secret().len()),
        (43, 22)
    );
    let b = authorization(&cfg(Provider::Custom), "http://127.0.0.1:4711/").unwrap();
    assert_ne!(a.verifier.secret(), b.verifier.secret());
    assert_ne!(a.state.secret(), b.state.secret());
    assert!(!b.url.as_str().contains("access_type"), "{}", b.url);
}

#[test]
fn token_response_debug_hides_tokens() {
    let t: TokenResponse = serde_json::from_str(
        r#"{"access_token":"at-secret","refresh_token":"rt-secret","expires_in":3599,"token_type":"Bearer"}"#,
    )
    .unwrap();
    let d = format!("{t:?}");
    assert!(!d.contains("secret"), "{d}");
}

#[test]
fn googles_device_answer_spells_verification_url() {
    let d: DeviceAuth = serde_json::from_str(
        r#"{"device_code":"AH-1","user_code":"GQVQ-JKEC","verification_url":"https://www.google.com/device","expires_in":1800,"interval":5}"#,
    )
    .unwrap();
    assert_eq!(
        d.verification_uri().as_str(),
        "https://www.google.com/device"
    );
    assert_eq!(d.user_code().secret(), "GQVQ-JKEC");
}

#[test]
fn only_a_200_or_an_error_object_in_a_4xx_is_the_providers_word() {
    let json = br#"{"error":"temporarily_unavailable"}"#.to_vec();
    let cases = [
        (StatusCode::OK, br#"{"access_token":"x"}"#.to_vec(), None),
        (StatusCode::BAD_REQUEST, json.clone(), None),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json,
            Some("HTTP 503 Service Unavailable"),
        ),
        (
            StatusCode::BAD_REQUEST,
            b"<html>proxy</html>".to_vec(),
            Some("HTTP 400 Bad Request"),
        ),
        (StatusCode::FOUND, Vec::new(), Some("HTTP 302 Found")),
    ];
    for (status, body, outage) in cases {
        let got = answer(status, Default::default(), body);
        match (outage, got) {
            (None, Ok(r)) => assert_eq!(r.status(), status),
            (Some(want), Err(e)) => assert_eq!(e.to_string(), want),
            (want, got) => panic!("{status}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn a_refusal_keeps_the_code_and_the_first_line_of_microsofts_description() {
    let body: BasicErrorResponse = serde_json::from_str(
        r#"{"error":"invalid_grant","error_description":"AADSTS70000: The grant is expired.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[70000]}"#,
    )
    .unwrap();
    let e = endpoint_error("https://t/token", RequestTokenError::ServerResponse(body));
    assert_eq!(e.code(), Some("invalid_grant"));
    assert_eq!(
        e.to_string(),
        "https://t/token refused: invalid_grant (AADSTS70000: The grant is expired.)"
    );
    let e = endpoint_error::<oauth2::basic::BasicErrorResponseType>(
        "https://t/token",
        RequestTokenError::Request(HttpError("HTTP 502 Bad Gateway".into())),
    );
    assert_eq!(e.code(), None);
    assert_eq!(
        e.to_string(),
        "cannot get an answer from https://t/token: HTTP 502 Bad Gateway"
    );
}
