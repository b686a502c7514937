//! Size and time limits every scheme enforces, before any crypto or store work.

use std::time::Duration;

/// Request bodies above this are refused with 413 (the rest drained, bounded, so the client reads
/// the answer).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// A credential longer than this is rejected without any crypto or store work. Browsers cap a
/// cookie at 4096 bytes; every credential authbench issues is far below.
pub const MAX_CREDENTIAL_BYTES: usize = 4096;
/// Largest request head (request line + headers) accepted; above it hyper answers 431.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// HTTP/2's cap on a request's decoded header list. Not [`MAX_HEAD_BYTES`]: the h2 crate answers
/// a list over its cap with a reset (431 then REFUSED_STREAM), or, for a block too large to
/// buffer, a GOAWAY of the whole connection, which a client sees as a failure rather than a 4xx.
/// At 80 KiB a 64 KiB credential (the attack battery's largest) reaches the credential check and
/// is refused there, as HTTP/1.1's 431 refuses it; HPACK keeps a connection's table at 4 KiB.
pub const MAX_H2_HEADER_LIST_BYTES: u32 = 80 * 1024;
/// A connection that has not sent a complete request head within this time is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A request whose body has not fully arrived this long after its head is answered 408 and its
/// connection closed. Bodies are at most 16 KiB, so an honest client needs milliseconds.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
