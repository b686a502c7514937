//! A virtual user's requests, each as its flow describes it: login, the authenticated request
//! (drawn by weight when the flow has several), renewal (refresh, or a new login when the flow
//! has no refresh), logout. The same code for authbench's own schemes and any flow file.
//!
//! The hot path, an authenticated request, builds nothing: the path is the flow's (static for the
//! process), a fixed body is the flow's bytes, and the credential and CSRF headers are borrowed
//! from what the user holds, which is moved out of the user for the call and back after it.

use std::time::Duration;

use tokio::time::Instant;

use super::{Failure, RENEW_AT, Session, Vu};
use crate::client::Call;
use crate::credentials::CredentialPool;
use crate::flow::extract::{Held, Missing};
use crate::flow::{Flow, Request};
use crate::record::Endpoint;

impl Vu {
    pub(super) async fn login(&mut self, flow: &'static Flow) {
        if self.shared.transport.new_connection_per_login {
            self.client.reconnect();
        }
        let login = &flow.login;
        let call = Call {
            method: login.method.clone(),
            path: &login.path,
            credential: None,
            csrf: None,
            body: match (&self.login_body, &login.body) {
                (Some(b), Some((_, ct))) => Some((b.clone(), ct)),
                _ => None,
            },
            want_body: true,
        };
        let Ok(reply) = self.exchange((Endpoint::Login, 0), &call, (&login.expect, None), None, None).await
        else {
            return;
        };
        self.session = self.session_from(flow.read(&reply.headers, &reply.body, None));
        if self.session.is_none() {
            self.record_bad_response(Endpoint::Login);
        }
    }

    /// The request the mix asks for, and its number: one draw only when the flow has more than
    /// one (a built-in flow's users draw exactly what they always drew).
    fn pick(&mut self, flow: &'static Flow) -> (u8, &'static Request) {
        if flow.requests.len() == 1 {
            (0, &flow.requests[0])
        } else {
            let i = flow.pick_index(self.rng.next_u64());
            (i as u8, &flow.requests[i])
        }
    }

    /// An authenticated request; a refusal drops the credential.
    pub(super) async fn request(&mut self, flow: &'static Flow, intended: Option<Instant>) {
        let Some(session) = self.session.take() else { return };
        let (n, req) = self.pick(flow);
        let held = &session.held;
        let call = req.step.call(held, flow.refused.needs_body());
        let len = held.credential.1.len() as u64;
        let judge = (&req.step.expect, Some(&flow.refused));
        let result = self.exchange((Endpoint::Me, n), &call, judge, intended, Some(len)).await;
        if !matches!(result, Err(Failure { refused: true, .. })) {
            self.session = Some(session);
        }
    }

    /// An authenticated request with a credential drawn uniformly from the run's pool (open
    /// model), the request drawn from the flow's mix by weight as [`Self::request`] draws it. A
    /// pool holds credentials only (issued by whoever built it), so no CSRF token goes with it.
    pub(super) async fn request_drawn(
        &mut self,
        flow: &'static Flow,
        pool: &CredentialPool,
        intended: Option<Instant>,
    ) {
        let Some(value) = pool.draw(self.rng.next_u64()) else { return };
        let len = value.len() as u64;
        let (n, req) = self.pick(flow);
        let credential = (pool.header().clone(), value);
        let call = Call {
            method: req.step.method.clone(),
            path: &req.step.path,
            credential: Some(&credential),
            csrf: None,
            body: req.step.fixed_body(),
            want_body: flow.refused.needs_body(),
        };
        let judge = (&req.step.expect, Some(&flow.refused));
        let _ = self.exchange((Endpoint::Me, n), &call, judge, intended, Some(len)).await;
    }

    /// A credential about to expire: refreshed, or a new login where the flow has no refresh.
    pub(super) async fn renew(&mut self, flow: &'static Flow) {
        if flow.refresh.is_some() {
            self.refresh(flow).await;
        } else {
            self.session = None;
            self.login(flow).await;
        }
    }

    pub(super) async fn refresh(&mut self, flow: &'static Flow) {
        let Some(r) = &flow.refresh else { return };
        let Some(session) = self.session.take() else { return };
        let held = &session.held;
        let (body, header, len) = flow.refresh_parts(r, held);
        let call = Call {
            method: r.step.method.clone(),
            path: &r.step.path,
            credential: if r.send_credential { Some(&held.credential) } else { header.as_ref() },
            csrf: if r.step.csrf { held.csrf.as_ref() } else { None },
            body: body.zip(r.step.body.as_ref().map(|(_, ct)| ct)),
            want_body: true,
        };
        let judge = (&r.step.expect, Some(&flow.refused));
        match self.exchange((Endpoint::Refresh, 0), &call, judge, None, Some(len)).await {
            Ok(reply) => {
                self.session = self.session_from(flow.read(&reply.headers, &reply.body, Some(held)));
                if self.session.is_none() {
                    self.record_bad_response(Endpoint::Refresh);
                }
            }
            Err(Failure { refused: true, .. }) => {}
            Err(_) => self.session = Some(session),
        }
    }

    pub(super) async fn logout(&mut self, flow: &'static Flow) {
        let Some(session) = self.session.take() else { return };
        let Some(step) = &flow.logout else { return };
        let held = &session.held;
        let call = step.call(held, false);
        let len = held.credential.1.len() as u64;
        let _ = self.exchange((Endpoint::Logout, 0), &call, (&step.expect, None), None, Some(len)).await;
    }

    /// What a login or refresh answer gave, with its renewal time (at 90% of a stated lifetime).
    fn session_from(&self, read: Result<Held, Missing>) -> Option<Session> {
        let held = read.ok()?;
        let renew_at = held.expires_in.map(|s| Instant::now() + Duration::from_secs_f64(s as f64 * RENEW_AT));
        Some(Session { held, renew_at })
    }
}
