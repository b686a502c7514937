//! The JSON bodies on the wire. Field order is the order the bytes have always had (keys sorted),
//! so a body built from these types is byte-identical to what earlier servers sent.

use serde::{Deserialize, Serialize};

/// `POST /auth/login`. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The answer to a login or refresh that set a credential cookie (session id or sealed claims).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieIssued {
    /// Seconds the credential lives: fixed for a sealed cookie, the idle timeout for a session.
    pub expires_in: u64,
    /// The scheme's name (`cookie`, `session`): informative only.
    #[serde(default)]
    pub token_type: String,
}

/// The answer to a bearer login or refresh: a new access token and a new refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub refresh_token: String,
    /// Always `Bearer`.
    #[serde(default)]
    pub token_type: String,
}

/// `POST /auth/refresh` of a bearer credential. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Every 4xx/5xx answer: `{"error": "<fixed message>"}`, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_bytes_the_servers_always_sent() {
        let login = LoginRequest { username: "user7".into(), password: "password7".into() };
        assert_eq!(serde_json::to_string(&login).unwrap(), r#"{"username":"user7","password":"password7"}"#);
        let issued = CookieIssued { expires_in: 900, token_type: "cookie".into() };
        assert_eq!(
            serde_json::to_string(&issued).unwrap(),
            serde_json::json!({ "token_type": "cookie", "expires_in": 900 }).to_string()
        );
        let pair = TokenPair {
            access_token: "a".into(),
            expires_in: 900,
            refresh_token: "r".into(),
            token_type: "Bearer".into(),
        };
        assert_eq!(
            serde_json::to_string(&pair).unwrap(),
            serde_json::json!({ "access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900 })
                .to_string()
        );
        let refresh = RefreshRequest { refresh_token: "r".into() };
        assert_eq!(serde_json::to_string(&refresh).unwrap(), r#"{"refresh_token":"r"}"#);
        let error = ErrorBody { error: "invalid credential".into() };
        assert_eq!(serde_json::to_string(&error).unwrap(), r#"{"error":"invalid credential"}"#);
    }

    #[test]
    fn requests_refuse_unknown_fields_and_answers_tolerate_them() {
        assert!(serde_json::from_str::<LoginRequest>(r#"{"username":"u","password":"p","x":1}"#).is_err());
        assert!(serde_json::from_str::<RefreshRequest>(r#"{"refresh_token":"r","x":1}"#).is_err());
        let issued: CookieIssued = serde_json::from_str(r#"{"expires_in":5,"extra":true}"#).unwrap();
        assert_eq!(issued.expires_in, 5);
    }
}
