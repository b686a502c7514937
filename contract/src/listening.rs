//! The first line a server prints on stdout, so a parent process learns the port it picked:
//! `listening on http://IP:PORT`.

use std::net::SocketAddr;

/// What the line starts with, before the URL.
pub const PREFIX: &str = "listening on ";

/// The line for `addr`, without the newline.
pub fn line(addr: SocketAddr) -> String {
    format!("{PREFIX}http://{addr}")
}

/// The line of a server over HTTPS (`tls`) or clear text.
pub fn line_over(addr: SocketAddr, tls: bool) -> String {
    if tls { format!("{PREFIX}https://{addr}") } else { line(addr) }
}

/// The address in a [`line`] or [`line_over`]; surrounding whitespace (the newline) is ignored.
/// `None` for any other line.
pub fn parse(line: &str) -> Option<SocketAddr> {
    parse_over(line).map(|(addr, _)| addr)
}

/// The address and whether it is HTTPS.
pub fn parse_over(line: &str) -> Option<(SocketAddr, bool)> {
    let rest = line.trim().strip_prefix(PREFIX)?;
    match rest.strip_prefix("https://") {
        Some(addr) => Some((addr.parse().ok()?, true)),
        None => Some((rest.strip_prefix("http://")?.parse().ok()?, false)),
    }
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
        let a: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(parse_over(&line_over(a, true)), Some((a, true)));
        assert_eq!(parse_over(&line_over(a, false)), Some((a, false)));
    }
}
