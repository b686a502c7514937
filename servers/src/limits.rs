//! Size limits every scheme enforces, before any crypto or store work.

/// Request bodies above this are refused with 413 (the rest drained, bounded, so the client reads
/// the answer).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// A credential longer than this is rejected without any crypto or store work. Browsers cap a
/// cookie at 4096 bytes; every credential authbench issues is far below.
pub const MAX_CREDENTIAL_BYTES: usize = 4096;
