//! Reading a request body whole within the body limit, and draining one that is over it before
//! the 413 goes out.
//!
//! A server that answers 413 while the client is still sending, then closes with unread bytes in
//! its receive buffer, makes the kernel send a reset; the client then often sees a broken pipe or
//! a reset instead of the 413 (it was seen with 1 MiB posts). Like nginx's lingering close, the
//! rest of an oversized body is read and discarded first — bounded: at most [`DRAIN_MAX_BYTES`]
//! and [`DRAIN_MAX_TIME`]. A body drained to its end leaves the connection usable; one cut off by
//! a bound gets `Connection: close` with its 413.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use bytes::BytesMut;
use http_body_util::BodyExt;

/// Most bytes of an oversized body read and discarded before its 413.
pub const DRAIN_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Longest time spent draining an oversized body.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(2);

/// What became of a request body.
#[derive(Debug)]
pub enum Read {
    /// The whole body, within the limit.
    Whole(Bytes),
    /// Over the limit (declared or as read). `drained`: read to its end within the drain bounds,
    /// so the connection can stay open.
    TooLarge { drained: bool },
    /// The body failed to arrive (the serve loop's read deadline, a broken chunked encoding, a
    /// closed connection).
    Failed(axum::Error),
}

/// Read `body` whole if it is at most `limit` bytes; drain it (bounded) if it is not.
pub async fn read(headers: &HeaderMap, mut body: axum::body::Body, limit: usize) -> Read {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Read::TooLarge { drained: drain(body, 0).await };
    }
    let mut buf = BytesMut::new();
    loop {
        match body.frame().await {
            None => return Read::Whole(buf.freeze()),
            Some(Err(e)) => return Read::Failed(e),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else { continue };
                if buf.len() + data.len() > limit {
                    return Read::TooLarge { drained: drain(body, (buf.len() + data.len()) as u64).await };
                }
                buf.extend_from_slice(&data);
            }
        }
    }
}

/// Read and discard the rest of `body`; true when it ended within the bounds.
async fn drain(mut body: axum::body::Body, mut read: u64) -> bool {
    let rest = async {
        while read <= DRAIN_MAX_BYTES {
            match body.frame().await {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        read += data.len() as u64;
                    }
                }
            }
        }
        false
    };
    tokio::time::timeout(DRAIN_MAX_TIME, rest).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use axum::http::HeaderValue;
    use hyper::body::Frame;

    use super::*;

    /// `left` chunks of `size` bytes without a declared length, then the end — or, with `hang`,
    /// a body that never ends.
    struct Chunks {
        left: usize,
        size: usize,
        hang: bool,
    }

    impl hyper::body::Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.left == 0 {
                return if self.hang { Poll::Pending } else { Poll::Ready(None) };
            }
            self.left -= 1;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; self.size])))))
        }
    }

    fn chunks(left: usize, size: usize) -> axum::body::Body {
        axum::body::Body::new(Chunks { left, size, hang: false })
    }

    fn length(n: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        h
    }

    #[tokio::test]
    async fn within_the_limit_the_body_is_read_whole() {
        let r = read(&length(10), axum::body::Body::from("0123456789"), 10).await;
        assert!(matches!(r, Read::Whole(ref b) if b.as_ref() == b"0123456789"), "{r:?}");
        let r = read(&HeaderMap::new(), chunks(4, 4), 16).await;
        assert!(matches!(r, Read::Whole(ref b) if b.len() == 16), "{r:?}");
    }

    #[tokio::test]
    async fn over_the_limit_the_body_is_drained_to_its_end_within_the_bounds() {
        // Declared too long: drained without being kept.
        let r = read(&length(1 << 20), chunks(256, 4096), 16 * 1024).await;
        assert!(matches!(r, Read::TooLarge { drained: true }), "{r:?}");
        // Only found too long while reading (chunked).
        let r = read(&HeaderMap::new(), chunks(20, 1024), 16 * 1024).await;
        assert!(matches!(r, Read::TooLarge { drained: true }), "{r:?}");
    }

    #[tokio::test]
    async fn draining_stops_at_its_byte_bound() {
        let chunk = 64 * 1024;
        let r = read(&HeaderMap::new(), chunks(DRAIN_MAX_BYTES as usize / chunk + 4, chunk), 16 * 1024).await;
        assert!(matches!(r, Read::TooLarge { drained: false }), "{r:?}");
    }

    #[tokio::test]
    async fn draining_stops_at_its_time_bound() {
        // 32 KiB, then a body that never ends: the drain gives up after DRAIN_MAX_TIME.
        let body = axum::body::Body::new(Chunks { left: 2, size: 16 * 1024, hang: true });
        let started = std::time::Instant::now();
        let r = read(&HeaderMap::new(), body, 16 * 1024).await;
        assert!(matches!(r, Read::TooLarge { drained: false }), "{r:?}");
        let took = started.elapsed();
        assert!(took >= DRAIN_MAX_TIME && took < DRAIN_MAX_TIME * 2, "{took:?}");
    }
}
