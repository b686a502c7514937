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
/// A connection that has not sent a complete request head within this time is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A request whose body has not fully arrived this long after its head is answered 408 and its
/// connection closed. Bodies are at most 16 KiB, so an honest client needs milliseconds.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
