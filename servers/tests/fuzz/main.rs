//! Property tests: random and mutated credentials and bodies thrown at each scheme's Router with
//! `oneshot` (issue 6, "fuzzed credentials and bodies").
//!
//! Mutations start from credentials the Router really issued (bit flips, truncation, extension,
//! insertion, deletion, base64 alphabet and padding swaps, case changes, splices of two issued
//! credentials, JWT segment swaps and forged headers/payloads), or are random bytes; they are then
//! framed into headers in honest and dishonest ways (duplicated cookies, the value split across
//! two headers, other names, quoting, `Bearer` spelled oddly, two `Authorization` headers...).
//!
//! Every scheme is covered: `cookie`, `session`, `jwt` and the four variants `session-cached`,
//! `session-tracked`, `jwt-revocable`, `jwt-pubsub` (issue 12's "attack battery"). Per scheme and
//! credential kind — its credential header (`Cookie` or `Authorization`) on `/api/me`, logout,
//! logout-all (and refresh for the cookie schemes), login bodies, refresh bodies:
//! - Every response is one of the statuses the contract allows for that endpoint: never a 5xx
//!   (other than `/auth/logout-all`'s documented 501 for a valid stateless credential), never a
//!   panic.
//! - Never a 2xx unless a *live* credential is presented intact — judged by an oracle written
//!   independently of the servers' parsers: a live credential occurs in the credential header(s)
//!   as a whole token, not glued to other credential characters. A 200 on `/api/me` must also
//!   name that credential's user. Intact live credentials in the canonical framing are positive
//!   controls: they must get 200, so a harness that rejects everything cannot pass.
//! - Revocation ([`ledger`], the oracle's model of what is live, per scheme): once a logout,
//!   logout-all, session refresh or refresh-token reuse revoked a credential, cases replay it,
//!   exactly or edited, and it must never be accepted again (the caches of `session-cached` and
//!   `session-tracked` included). Each pool user has two logins: logout and a detected reuse end
//!   one and must leave the other standing, logout-all ends both.
//! - Session refresh (rotation with reuse detection): a rotated-away id replayed at refresh is 401
//!   and ends the session its family holds now — on this server at once, the caches included —
//!   and leaves the user's other session standing; at `/api/me` it is just 401.
//! - Refresh for `jwt-revocable`/`jwt-pubsub` (rotation with reuse detection): only the current
//!   refresh token refreshes, once; a mutated one is 400/401 and leaves its family standing; a
//!   replay of a rotated one is 401 and revokes the family — its current refresh token and every
//!   access token it issued are then checked to be rejected.
//!
//! Case counts (per credential kind, summed over schemes, >= 10,000 each; every scheme has a
//! share) are the `*_CASES` constants; `AUTHBENCH_FUZZ_MULT=<n>` multiplies them for a longer local run.
//!
//! - Past the maximum age ([`aged`]): sessions and refresh tokens of a login older than
//!   `--max-age`, minted as the server issued them, are replayed with the revoked credentials and
//!   must never be accepted (at `/api/me` nor at refresh).
//!
//! - An oversize login flood ([`flood`]): 503 with `Retry-After` past the hashing queue's bound,
//!   the queue never longer than it; a login past its timeout: 503 with `Retry-After`.
//! - Login throttling ([`throttle`]): 429 with `Retry-After` exactly when the oracle's own count
//!   of failures per account or per source address is over the limit.
//!
//! Layout: [`aged`] (credentials past the maximum age), [`budget`] (case counts), [`flood`] (the login flood), [`harness`] (the Router under test and what it issued),
//! [`mutation`] (where a case's credential comes from; the edits themselves are
//! `authbench_servers::testing`, shared with the cargo-fuzz targets), [`frame`] (credentials
//! framed into headers), [`oracle`] (endpoints, requests and the response oracle), [`ledger`]
//! (which credentials are live, and what a refresh, logout or reuse revokes), then the cases:
//! [`headers`], [`login`], [`refresh`], [`throttle`].

mod aged;
mod budget;
mod flood;
mod frame;
mod harness;
mod headers;
mod ledger;
mod login;
mod mutation;
mod oracle;
mod refresh;
mod throttle;
