//! One load run over time (`authbench load`'s timeseries.csv): any number of named lines against
//! seconds since the start, solid or dashed, linear or log y axis.

use super::chart::{Chart, DrawResult};
use super::style::{draw_legend, frame, label_font, log_bounds, log_ticks, max_of};
use crate::units;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// One line of a [`Timeline`].
#[derive(Debug, Clone)]
pub struct TimeLine {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// A chart of lines over the run's seconds.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub name: &'static str,
    pub title: String,
    pub y_desc: String,
    pub log_y: bool,
    pub lines: Vec<TimeLine>,
}

impl Timeline {
    /// `None` when no line has a point (nothing to draw).
    pub fn new(
        name: &'static str,
        title: &str,
        y_desc: &str,
        log_y: bool,
        lines: Vec<TimeLine>,
    ) -> Option<Timeline> {
        let lines: Vec<TimeLine> = lines.into_iter().filter(|l| !l.points.is_empty()).collect();
        (!lines.is_empty()).then(|| Timeline {
            name,
            title: title.into(),
            y_desc: y_desc.into(),
            log_y,
            lines,
        })
    }

    fn draw_lines<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    ) -> DrawResult<DB> {
        for line in &self.lines {
            let c = line.color;
            if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(line.points.iter().copied(), 8, 5, c.stroke_width(2)))?
                    .label(line.label.clone())
                    .legend(move |(x, y)| {
                        DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, c.stroke_width(2))
                    });
            } else {
                chart
                    .draw_series(LineSeries::new(line.points.iter().copied(), c.stroke_width(2)))?
                    .label(line.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2)));
            }
        }
        Ok(())
    }
}

impl Chart for Timeline {
    fn name(&self) -> &'static str {
        self.name
    }
    fn title(&self) -> String {
        self.title.clone()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let points = || self.lines.iter().flat_map(|l| l.points.iter());
        let xmax = max_of(points().map(|p| p.0)).max(1.0);
        if self.log_y {
            let (lo, hi) = log_bounds(points().map(|p| p.1)).unwrap_or((1.0, 10.0));
            let mut chart = frame(root, self.title(), 55)
                .build_cartesian_2d(0f64..xmax, (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)))?;
            chart
                .configure_mesh()
                .x_desc("seconds since the load started")
                .y_desc(self.y_desc.as_str())
                .axis_desc_style(label_font(18))
                .label_style(label_font(15))
                .y_label_formatter(&|v| units::axis(*v))
                .draw()?;
            self.draw_lines(&mut chart)?;
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
        } else {
            let ymax = max_of(points().map(|p| p.1)).max(1e-9) * 1.1;
            let mut chart = frame(root, self.title(), 55).build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
            chart
                .configure_mesh()
                .x_desc("seconds since the load started")
                .y_desc(self.y_desc.as_str())
                .axis_desc_style(label_font(18))
                .label_style(label_font(15))
                .y_label_formatter(&|v| units::axis(*v))
                .draw()?;
            self.draw_lines(&mut chart)?;
            draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
        }
    }
}
