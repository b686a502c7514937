//! Credentials out of what is printed: a Redis URL (`redis://:<password>@host:port/`) shown in a
//! log line, an error or a results file goes through [`redact_url`] first.

/// A Redis URL fit for an error message or a log line: the credentials in it — everything between
/// `://` and the last `@` (`user:password@`), and a `pass=`/`password=` query parameter
/// (`redis+unix:///sock?pass=...`) — are replaced by `***`. Unparseable input is redacted the same way.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let mut out = match rest.rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_owned(),
    };
    for key in ["pass=", "password="] {
        let mut from = 0;
        while let Some(i) = out[from..].find(key) {
            let start = from + i + key.len();
            let end = out[start..].find('&').map_or(out.len(), |j| start + j);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_urls_keep_no_credentials() {
        assert_eq!(redact_url("redis://127.0.0.1:6379/"), "redis://127.0.0.1:6379/");
        assert_eq!(redact_url("redis://:hunter2@127.0.0.1:6379/0"), "redis://***@127.0.0.1:6379/0");
        assert_eq!(redact_url("rediss://alice:hun@ter2@host/"), "rediss://***@host/");
        assert_eq!(redact_url("redis://:pa/ss@host/"), "redis://***@host/");
        assert_eq!(redact_url("hunter2@host"), "***@host");
        assert_eq!(
            redact_url("redis+unix:///tmp/r.sock?db=1&pass=hunter2"),
            "redis+unix:///tmp/r.sock?db=1&pass=***"
        );
        assert_eq!(
            redact_url("redis+unix:///s?password=a&pass=b&x=1"),
            "redis+unix:///s?password=***&pass=***&x=1"
        );
    }
}
