//! The first line a server prints on stdout, so a parent process learns the port it picked:
//! `listening on http://IP:PORT`.

use std::net::SocketAddr;

/// What the line starts with, before the URL.
pub const PREFIX: &str = "listening on ";

/// The line for `addr`, without the newline.
pub fn line(addr: SocketAddr) -> String {
    format!("{PREFIX}http://{addr}")
}

/// The address in a [`line`]; surrounding whitespace (the newline) is ignored. `None` for any other line.
pub fn parse(line: &str) -> Option<SocketAddr> {
    line.trim().strip_prefix(PREFIX)?.strip_prefix("http://")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trips_and_other_lines_do_not_parse() {
        for addr in ["127.0.0.1:8080", "[::1]:1"] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(parse(&format!("{}\n", line(addr))), Some(addr));
        }
        assert_eq!(line("127.0.0.1:9".parse().unwrap()), "listening on http://127.0.0.1:9");
        assert_eq!(parse("listening on 127.0.0.1:9"), None);
        assert_eq!(parse("listening on http://localhost:9"), None);
        assert_eq!(parse("error: cannot bind"), None);
    }
}
