//! The revocation window after logout / logout-all, log scale (revocation.csv): what each window
//! is made of (the rest of the test TTL, the verifier's leeway) and, outlined, what it would be
//! at the default TTL.

use super::chart::{BAD, Chart, DrawResult, GOOD};
use super::style::{centered, draw_legend, frame, label_font, max_of};
use crate::analysis::Analysis;
use crate::data::RevocationRow;
use crate::revocation_window::{Makeup, Window};
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The verifier's leeway: the part of a window that outlives the credential's own expiry.
const LEEWAY: RGBColor = RGBColor(240, 160, 60);

/// One bar: "scheme action", the measured window, whether the action revoked it, its parts.
struct Bar {
    scheme: String,
    /// `logout` or `all` (logout-all), shown under the bar; the scheme's name under its pair.
    action: &'static str,
    /// Geometric mean over the probes, and its 95% interval (none with one probe).
    window_s: f64,
    ci: Option<(f64, f64)>,
    probes: usize,
    rejected: bool,
    makeup: Option<Makeup>,
}

/// Time from logout / logout-all until the old credential is rejected, log scale.
pub struct Revocation {
    bars: Vec<Bar>,
}

impl Revocation {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let bar = |(r, w): (RevocationRow, Window)| Bar {
            scheme: r.scheme.clone(),
            action: if r.action == "logout_all" { "all" } else { "logout" },
            window_s: r.window_s.max(0.0),
            ci: w.ci,
            probes: w.n,
            rejected: r.rejected,
            makeup: Makeup::of(&r),
        };
        let mut bars = Vec::new();
        for s in &a.schemes {
            for action in ["logout", "logout_all"] {
                bars.extend(a.revocation_summary(s, action).map(bar));
            }
        }
        (!bars.is_empty()).then_some(Revocation { bars })
    }

    fn ttl(&self) -> Option<f64> {
        self.bars.iter().find_map(|b| b.makeup.map(|m| m.ttl_s))
    }

    fn default_ttl(&self) -> Option<f64> {
        self.bars.iter().find_map(|b| b.makeup.and_then(|m| m.default_ttl_s))
    }

    fn leeway(&self) -> Option<f64> {
        self.bars.iter().filter_map(|b| b.makeup.map(|m| m.leeway_s)).find(|l| *l > 0.0)
    }
}

impl Chart for Revocation {
    fn name(&self) -> &'static str {
        "revocation_window"
    }
    fn title(&self) -> String {
        "How long a logged-out credential is still accepted".into()
    }
    fn note(&self) -> String {
        let probes = self.bars.iter().map(|b| b.probes).max().unwrap_or(0);
        let mut note = if probes > 1 {
            format!(
                "bars: geometric mean of {probes} independent probes per scheme and action, whiskers: its 95% CI (t on log windows)"
            )
        } else {
            "one probe per scheme and action (not repeated): no interval".to_string()
        };
        match (self.ttl(), self.default_ttl()) {
            (Some(t), Some(d)) => note.push_str(&format!(
                "; measured with a {} test TTL; outlines: up to the default TTL ({}) + leeway, projected",
                units::duration(t),
                units::duration(d)
            )),
            _ => note.push_str("; TTL and leeway not recorded in revocation.csv (older results)"),
        }
        note
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.bars.len() as f64;
        let floor = 1e-5;
        let projected = |b: &Bar| b.makeup.and_then(|m| m.projected_s());
        let ymax = max_of(self.bars.iter().flat_map(|b| [Some(b.window_s), projected(b)]).flatten()).max(1.0)
            * 1500.0; // room for the legend above the projected bars
        // Ticks at round durations (10 µs … 1 ms … 1 min, 15 min, 1 h), not at powers of ten seconds.
        let ticks: Vec<f64> = [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 60.0, 900.0, 3600.0, 86400.0]
            .into_iter()
            .filter(|t| *t <= ymax)
            .collect();
        let mut chart = frame(root, self.title(), 80)
            .build_cartesian_2d(-0.6f64..n - 0.4, (floor..ymax).log_scale().with_key_points(ticks))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            // The labels are drawn below, on two lines: one scheme name per pair of bars would not
            // fit under each bar (they overlapped).
            .x_label_formatter(&|_| String::new())
            .y_desc("window until rejected (log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .y_label_formatter(&|v| units::duration(*v))
            .draw()?;
        let w = 0.3;
        let rect = |i: usize, lo: f64, hi: f64| {
            [(i as f64 - w, lo.max(floor)), (i as f64 + w, hi.max(floor * 1.01))]
        };
        let indexed = || self.bars.iter().enumerate();
        if let Some(d) = self.default_ttl() {
            chart
                .draw_series(indexed().filter_map(|(i, b)| {
                    Some(Rectangle::new(rect(i, floor, projected(b)?), BAD.mix(0.9).stroke_width(2)))
                }))?
                .label(format!("at the default TTL ({}): up to TTL + leeway (projected)", units::duration(d)))
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAD.stroke_width(2)));
            // One label per scheme over its bars when they say the same (side by side they overlapped).
            let labels: Vec<Option<(String, f64)>> = self
                .bars
                .iter()
                .map(|b| {
                    let (m, p) = (b.makeup?, projected(b)?);
                    let text = match m.leeway_s > 0.0 {
                        true => format!("≤ {} + {}", units::duration(d), units::duration(m.leeway_s)),
                        false => format!("≤ {}", units::duration(d)),
                    };
                    Some((text, p))
                })
                .collect();
            let mut i = 0;
            while i < labels.len() {
                let same = |k: usize| self.bars[k].scheme == self.bars[i].scheme && labels[k] == labels[i];
                let j = (i..labels.len()).take_while(|k| same(*k)).last().unwrap_or(i);
                if let Some((text, p)) = &labels[i] {
                    let x = (i + j) as f64 / 2.0;
                    chart.draw_series(std::iter::once(Text::new(
                        text.clone(),
                        (x, p * 1.4),
                        centered(15),
                    )))?;
                }
                i = j + 1;
            }
        }
        if self.bars.iter().any(|b| b.rejected) {
            chart
                .draw_series(
                    indexed()
                        .filter(|(_, b)| b.rejected)
                        .map(|(i, b)| Rectangle::new(rect(i, floor, b.window_s), GOOD.filled())),
                )?
                .label("revoked: rejected on the next request after the action")
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], GOOD.filled()));
        }
        if self.bars.iter().any(|b| !b.rejected) {
            let ttl = self.ttl().map_or("the credential's remaining lifetime".into(), |t| {
                format!("still valid: the rest of its {} test TTL", units::duration(t))
            });
            chart
                .draw_series(indexed().filter(|(_, b)| !b.rejected).map(|(i, b)| {
                    let top = b.makeup.map_or(b.window_s, |m| m.remaining_s);
                    Rectangle::new(rect(i, floor, top), BAD.filled())
                }))?
                .label(ttl)
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAD.filled()));
        }
        if let Some(l) = self.leeway() {
            chart
                .draw_series(indexed().filter_map(|(i, b)| {
                    let m = b.makeup.filter(|m| m.leeway_s > 0.0)?;
                    Some(Rectangle::new(rect(i, m.remaining_s, b.window_s), LEEWAY.filled()))
                }))?
                .label(format!("+ the JWT verifier's {} leeway after expiry", units::duration(l)))
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], LEEWAY.filled()));
        }
        chart.draw_series(indexed().filter_map(|(i, b)| {
            let (lo, hi) = b.ci?;
            let x = i as f64;
            Some(PathElement::new(
                vec![
                    (x, lo.max(floor)),
                    (x, hi.max(floor)),
                    (x - w / 3.0, hi.max(floor)),
                    (x + w / 3.0, hi.max(floor)),
                ],
                BLACK.stroke_width(2),
            ))
        }))?;
        chart.draw_series(indexed().map(|(i, b)| {
            let top = b.ci.map_or(b.window_s, |c| c.1).max(b.window_s);
            Text::new(units::seconds(b.window_s), (i as f64, top.max(floor) * 1.4), centered(15))
        }))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperMiddle)?;
        let at = |i: usize| chart.backend_coord(&(i as f64, floor));
        for (i, b) in indexed() {
            let (x, y) = at(i);
            root.draw(&Text::new(
                b.action,
                (x, y + 6),
                label_font(13).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        let mut i = 0;
        while i < self.bars.len() {
            let j = (i..self.bars.len())
                .take_while(|k| self.bars[*k].scheme == self.bars[i].scheme)
                .last()
                .unwrap_or(i);
            let ((x0, y), (x1, _)) = (at(i), at(j));
            let name = Text::new(
                self.bars[i].scheme.clone(),
                ((x0 + x1) / 2, y + 26),
                label_font(15).pos(Pos::new(HPos::Center, VPos::Top)),
            );
            root.draw(&name)?;
            i = j + 1;
        }
        Ok(())
    }
}
