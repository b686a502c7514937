//! A scheme's credentials and store reached directly, without HTTP, through the servers' own
//! code: `compare` preloads idle sessions and revocations with it, issues credentials with the
//! key material it shares with the server children, and probes the store between measurements.

pub use crate::cookie::{Claims as CookieClaims, Sealer};
pub use crate::denylist::{Denylist, Entry as DenylistEntry};
pub use crate::jwt::{Codec, TokenType};
pub use crate::revocation_store::RevocationStore;
pub use crate::session::SessionStore;
pub use crate::store_target::{StoreConn, StoreTarget};
