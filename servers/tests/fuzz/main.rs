//! Property tests: random and mutated credentials and bodies thrown at each scheme's Router with
//! `oneshot` (issue 6, "fuzzed credentials and bodies").
//!
//! Mutations start from credentials the Router really issued (bit flips, truncation, extension,
//! insertion, deletion, base64 alphabet and padding swaps, case changes, splices of two issued
//! credentials, JWT segment swaps and forged headers/payloads), or are random bytes; they are then
//! framed into headers in honest and dishonest ways (duplicated cookies, the value split across
//! two headers, other names, quoting, `Bearer` spelled oddly, two `Authorization` headers...).
//!
//! Every response must be one of the statuses the contract allows for that endpoint: never a 5xx
//! (other than `/auth/logout-all`'s documented 501 for a valid stateless credential), never a
//! panic, and never a 2xx unless an issued credential is presented intact — judged by an oracle
//! written independently of the servers' parsers: an issued credential occurs in the credential
//! header(s) as a whole token, not glued to other credential characters. A 200 on `/api/me` must
//! also name that credential's user. Intact credentials in the canonical framing are positive
//! controls: they must get 200, so a harness that rejects everything cannot pass.
//!
//! Case counts (per credential kind, summed over schemes, >= 10,000 each) are the `*_CASES`
//! constants; `AUTHBENCH_FUZZ_MULT=<n>` multiplies them for a longer local run.
//!
//! Layout: [`budget`] (case counts), [`harness`] (the Router under test and what it issued),
//! [`mutation`] (where a case's credential comes from; the edits themselves are
//! `authbench_servers::testing`, shared with the cargo-fuzz targets), [`frame`] (credentials
//! framed into headers), [`oracle`] (endpoints, requests and the response oracle), then the cases:
//! [`headers`], [`login`], [`refresh`].

mod budget;
mod frame;
mod harness;
mod headers;
mod login;
mod mutation;
mod oracle;
mod refresh;
