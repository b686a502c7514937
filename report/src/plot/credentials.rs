//! Bytes of the credential and of the whole request, per scheme (credentials.csv).

use super::chart::{Chart, DrawResult, scheme_color};
use super::spread::{Domain, Estimate};
use super::style::{centered, draw_legend, frame, label_font, max_of};
use crate::analysis::Analysis;
use crate::metric::Metric;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Bytes of the credential header and of the whole request, per scheme.
pub struct CredentialBytes {
    bars: Vec<(String, RGBColor, f64, Option<f64>, String)>,
    /// `credential_bytes` of summary.csv per scheme: how much the size varied across repeats.
    repeats: Vec<Estimate>,
}

impl CredentialBytes {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let bars: Vec<_> = a
            .schemes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let row = a.results.credentials.iter().find(|c| &c.scheme == s);
                let cred = a.credential_bytes(s)?;
                Some((
                    s.clone(),
                    scheme_color(s, i),
                    cred,
                    row.map(|r| r.request_bytes as f64),
                    row.map(|r| r.header.clone()).unwrap_or_default(),
                ))
            })
            .collect();
        let repeats = bars
            .iter()
            .filter_map(|b| a.metric(&b.0, Metric::CredentialBytes))
            .map(|row| Estimate::from_summary(0.0, row, Domain::NonNegative))
            .collect();
        (!bars.is_empty()).then_some(CredentialBytes { bars, repeats })
    }
}

impl Chart for CredentialBytes {
    fn name(&self) -> &'static str {
        "credential_bytes"
    }
    fn note(&self) -> String {
        let n = self.repeats.iter().map(|e| e.n).max().unwrap_or(0);
        let spread = self.repeats.iter().filter_map(|e| e.ci).map(|(l, h)| h - l).fold(0.0, f64::max);
        match n {
            0 => "bytes of one login's credential per scheme".into(),
            1 => "1 repeat: no interval (run with --repeat 3 or more for a 95% CI)".into(),
            // Sizes are set by the format: no whiskers to draw when every repeat agrees.
            _ if spread < 1.0 => {
                format!("the same size (within 1 B) in each of {n} repeats: no spread to draw")
            }
            _ => format!(
                "bars: credentials.csv; across the {n} repeats the size's 95% CI spans up to {} (see summary)",
                units::bytes(spread)
            ),
        }
    }
    fn title(&self) -> String {
        "Bytes sent with every authenticated request".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.bars.len() as f64;
        let ymax = max_of(self.bars.iter().flat_map(|b| [b.2, b.3.unwrap_or(0.0)])).max(1.0) * 1.2;
        let mut chart = frame(root, self.title(), 70).build_cartesian_2d(-0.6f64..n - 0.4, 0f64..ymax)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            // Scheme and header are drawn below on two lines ("scheme (header)" on one overlapped).
            .x_label_formatter(&|_| String::new())
            .y_desc("bytes per request")
            .y_label_formatter(&|v| units::axis(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(16))
            .draw()?;
        let grey = RGBColor(190, 190, 190);
        if self.bars.iter().any(|b| b.3.is_some()) {
            chart
                .draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                    Some(Rectangle::new([(i as f64 + 0.02, 0.0), (i as f64 + 0.34, b.3?)], grey.filled()))
                }))?
                .label("whole GET /api/me request (line, headers, credential)")
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], grey.filled()));
            chart.draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                Some(Text::new(format!("{} B", b.3?), (i as f64 + 0.18, b.3? + ymax * 0.012), centered(15)))
            }))?;
        }
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new([(i as f64 - 0.34, 0.0), (i as f64 - 0.02, b.2)], b.1.filled())
            }))?
            .label("credential (cookie value / bearer token), coloured by scheme")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BLACK.mix(0.6).filled()));
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            Text::new(format!("{} B", units::plain(b.2)), (i as f64 - 0.18, b.2 + ymax * 0.012), centered(15))
        }))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        let top = |size| label_font(size).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, b) in self.bars.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, 0.0));
            root.draw(&Text::new(b.0.clone(), (x, y + 6), top(15)))?;
            if !b.4.is_empty() {
                root.draw(&Text::new(format!("({})", b.4), (x, y + 26), top(13)))?;
            }
        }
        Ok(())
    }
}
