//! Why a request failed: [`ErrorKind`], classified where the failure happens from types (an
//! `io::ErrorKind`, hyper's error predicates, the phase of the exchange) and, for a response that
//! does not parse, from its first bytes — never from error text.

use std::io;

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// TCP connect failed other than refused: timed out, unreachable.
    Connect,
    /// No complete response within `--timeout`.
    Timeout,
    /// The connection closed before a response (head) arrived.
    Closed,
    /// 4xx status.
    Status4xx,
    /// 5xx status (and anything else outside 2xx).
    Status5xx,
    /// 2xx, but without the credential the flow needs (no Set-Cookie, no token in the JSON).
    BadResponse,
    /// TCP connect refused: nothing listens on the port.
    ConnectRefused,
    /// The connection was reset (RST) or broken while sending or before the response head.
    Reset,
    /// The answer does not start like an HTTP/1.x response.
    NotHttp,
    /// An HTTP response whose status line or a header line does not parse.
    BadHeader,
    /// A response head over the client's limit (size or number of headers).
    OversizedHeader,
    /// The head arrived, the body did not: the connection ended or broke mid-body.
    TruncatedBody,
}

impl ErrorKind {
    /// Every kind; the first six keep the order (and `timeseries.csv` columns) they always had.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Closed,
        ErrorKind::Status4xx,
        ErrorKind::Status5xx,
        ErrorKind::BadResponse,
        ErrorKind::ConnectRefused,
        ErrorKind::Reset,
        ErrorKind::NotHttp,
        ErrorKind::BadHeader,
        ErrorKind::OversizedHeader,
        ErrorKind::TruncatedBody,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Closed => "closed",
            ErrorKind::Status4xx => "status_4xx",
            ErrorKind::Status5xx => "status_5xx",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::Reset => "reset",
            ErrorKind::NotHttp => "not_http",
            ErrorKind::BadHeader => "bad_header",
            ErrorKind::OversizedHeader => "oversized_header",
            ErrorKind::TruncatedBody => "truncated_body",
        }
    }

    pub fn from_status(status: u16) -> ErrorKind {
        if (400..500).contains(&status) { ErrorKind::Status4xx } else { ErrorKind::Status5xx }
    }

    /// Whether the target sent something back (a status, or bytes that were meant as a response).
    /// The other kinds — connect failures, timeouts, a close or reset before any answer — are
    /// the target not answering; a run of only those is a stall.
    pub fn target_answered(self) -> bool {
        !matches!(
            self,
            ErrorKind::Connect
                | ErrorKind::ConnectRefused
                | ErrorKind::Timeout
                | ErrorKind::Closed
                | ErrorKind::Reset
        )
    }

    /// A failed TCP connect.
    pub fn of_connect(e: &io::Error) -> ErrorKind {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => ErrorKind::Reset,
            _ => ErrorKind::Connect,
        }
    }

    /// A hyper error before the response head arrived (sending the request, or reading the head).
    /// `head` is the first bytes the target sent since the request went out (fewer if it sent
    /// fewer), to tell "not HTTP at all" from "an HTTP response with a broken line".
    pub fn of_head_error(e: &hyper::Error, head: &[u8]) -> ErrorKind {
        if e.is_parse_too_large() {
            ErrorKind::OversizedHeader
        } else if e.is_parse() {
            if looks_like_http(head) { ErrorKind::BadHeader } else { ErrorKind::NotHttp }
        } else if is_reset(e) {
            ErrorKind::Reset
        } else {
            ErrorKind::Closed
        }
    }

    /// A hyper error while reading the body of a response whose head arrived.
    pub fn of_body_error(_: &hyper::Error) -> ErrorKind {
        ErrorKind::TruncatedBody
    }
}

/// `HTTP/` (or as much of it as arrived).
fn looks_like_http(head: &[u8]) -> bool {
    !head.is_empty() && b"HTTP/".starts_with(&head[..head.len().min(5)])
}

/// A reset or broken connection somewhere in the error's causes.
fn is_reset(e: &hyper::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe
            );
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_the_first_six_keep_their_places() {
        let names: std::collections::BTreeSet<_> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::COUNT);
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "ALL is in declaration order, so `kind as usize` indexes it");
        }
        assert_eq!(
            ErrorKind::ALL[..6].iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["connect", "timeout", "closed", "status_4xx", "status_5xx", "bad_response"]
        );
    }

    #[test]
    fn connect_failures_by_io_kind() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(ErrorKind::of_connect(&refused), ErrorKind::ConnectRefused);
        assert_eq!(ErrorKind::of_connect(&io::Error::from(io::ErrorKind::TimedOut)), ErrorKind::Connect);
        assert!(!ErrorKind::ConnectRefused.target_answered());
        assert!(ErrorKind::Status5xx.target_answered() && ErrorKind::NotHttp.target_answered());
    }

    #[test]
    fn http_prefix_check_accepts_partial_heads() {
        assert!(looks_like_http(b"HTTP/"));
        assert!(looks_like_http(b"HT"));
        assert!(!looks_like_http(b""));
        assert!(!looks_like_http(b"garba"));
        assert!(!looks_like_http(b"SSH-2"));
    }
}
