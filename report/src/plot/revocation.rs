//! The revocation window after logout / logout-all, log scale (revocation.csv).

use super::style::{category_label, centered, draw_legend, frame, label_font, max_of};
use super::{BAD, Chart, DrawResult, GOOD};
use crate::analysis::Analysis;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Time from logout / logout-all until the old credential is rejected, log scale.
pub struct Revocation {
    /// (label "scheme\naction", colour, window_s, rejected)
    bars: Vec<(String, f64, bool)>,
}

impl Revocation {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let mut bars = Vec::new();
        for s in &a.schemes {
            for action in ["logout", "logout_all"] {
                if let Some(r) = a.revocation(s, action) {
                    bars.push((format!("{s} {}", action.replace('_', "-")), r.window_s.max(0.0), r.rejected));
                }
            }
        }
        // Actions other than the two known ones, in file order.
        for r in &a.results.revocation {
            if r.action != "logout" && r.action != "logout_all" {
                bars.push((format!("{} {}", r.scheme, r.action), r.window_s.max(0.0), r.rejected));
            }
        }
        (!bars.is_empty()).then_some(Revocation { bars })
    }
}

impl Chart for Revocation {
    fn name(&self) -> &'static str {
        "revocation_window"
    }
    fn title(&self) -> String {
        "How long a logged-out credential is still accepted".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let n = self.bars.len() as f64;
        let floor = 1e-5;
        let ymax = max_of(self.bars.iter().map(|b| b.1)).max(1.0) * 20.0;
        let mut chart =
            frame(root, self.title(), 50).build_cartesian_2d(-0.6f64..n - 0.4, (floor..ymax).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.bars.len() * 4 + 4)
            .x_label_formatter(&|x| category_label(&names, *x))
            .x_desc("scheme and action")
            .y_desc("window until rejected (s, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .y_label_formatter(&|v| {
                if *v >= 1.0 { format!("{} s", units::axis(*v)) } else { units::seconds(*v) }
            })
            .draw()?;
        let bar = |i: usize, b: &(String, f64, bool)| {
            let color = if b.2 { GOOD } else { BAD };
            Rectangle::new([(i as f64 - 0.3, floor), (i as f64 + 0.3, b.1.max(floor * 1.01))], color.filled())
        };
        if self.bars.iter().any(|b| b.2) {
            chart
                .draw_series(self.bars.iter().enumerate().filter(|(_, b)| b.2).map(|(i, b)| bar(i, b)))?
                .label("old credential rejected after the window")
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], GOOD.filled()));
        }
        if self.bars.iter().any(|b| !b.2) {
            chart
                .draw_series(self.bars.iter().enumerate().filter(|(_, b)| !b.2).map(|(i, b)| bar(i, b)))?
                .label("never rejected before expiry (window = remaining TTL)")
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAD.filled()));
        }
        chart.draw_series(
            self.bars
                .iter()
                .enumerate()
                .map(|(i, b)| Text::new(units::seconds(b.1), (i as f64, b.1.max(floor) * 1.3), centered(15))),
        )?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperMiddle)
    }
}
