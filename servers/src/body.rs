//! Request bodies: the serve loop wraps every body in a [`TimedBody`] with a read deadline, and the
//! [`Body`] extractor (login, refresh) reads one whole, answering 413, 400 or 408 (a passed
//! deadline) in the crate's JSON shape.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};

use crate::error::Error;
use crate::limits::MAX_BODY_BYTES;
use crate::linger;

/// A request body, read whole: 413 over [`MAX_BODY_BYTES`] (after draining the rest, bounded:
/// `linger`), 400 for a broken body, 408 for a body the server stopped waiting for (the serve
/// loop's body read timeout, [`TimedBody`]) — each with the crate's JSON error body.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, _: &S) -> std::result::Result<Self, Response> {
        let (parts, body) = req.into_parts();
        match linger::read(&parts.headers, body, MAX_BODY_BYTES).await {
            linger::Read::Whole(bytes) => Ok(Body(bytes)),
            linger::Read::TooLarge { drained } => {
                let mut response = Error::PayloadTooLarge.into_response();
                if !drained {
                    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Err(response)
            }
            linger::Read::Failed(e) if is_body_timeout(&e) => Err(Error::BodyTimeout.into_response()),
            linger::Read::Failed(_) => {
                Err(Error::BadRequest("request body could not be read").into_response())
            }
        }
    }
}

/// A request body that fails once its deadline passes, so an extractor waiting for it
/// ([`Body`], hence login and refresh) gives up with 408 instead of holding the connection
/// forever. The timer starts the first time the body is not ready, so a request whose body is never
/// read (GET) or arrives at once costs no timer at all on the hot path.
pub(crate) struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl TimedBody {
    pub(crate) fn new(inner: Incoming, timeout: Duration) -> Self {
        TimedBody { inner, timeout, deadline: None }
    }
}

/// The error a [`TimedBody`] yields when its deadline passes.
#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
struct BodyTimeout;

/// Whether `err`, or an error it was caused by, is a [`TimedBody`] deadline.
fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.is::<BodyTimeout>() {
            return true;
        }
        cause = e.source();
    }
    false
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = self.timeout;
        let deadline = self.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimeout.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
