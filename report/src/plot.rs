//! The charts. Each is a [`Chart`] drawn once on a PNG bitmap and once on an SVG string, so
//! both files show the same picture. PNG text uses DejaVu Sans embedded in the binary
//! (`fonts/`, registered through plotters' `ab_glyph` feature), never the system's fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::analysis::Analysis;
use super::{Error, RenderedPlot, units};

const SIZE: (u32, u32) = (1100, 640);
const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// Register the embedded font under the family name plotters uses by default.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let ok = plotters::style::register_font(FONT, style, DEJAVU_SANS).is_ok();
            debug_assert!(ok, "embedded DejaVu Sans must parse");
        }
    });
}

/// A chart and its SVG text (inlined into report.html).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub plot: RenderedPlot,
    pub svg_text: String,
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    fn name(&self) -> &'static str;
    fn title(&self) -> String;
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Draw every chart that has data into `dir`; charts without data are skipped.
pub fn render_all(a: &Analysis<'_>, dir: &Path) -> Result<Vec<Rendered>, Error> {
    register_font();
    let mut out = Vec::new();
    if let Some(c) = LatencyVsUsers::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = ThroughputVsUsers::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = LatencyVsSessions::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = MemoryVsSessions::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = CpuPerRequest::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = Spectrum::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = CredentialBytes::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = Revocation::new(a) {
        out.push(render(&c, dir)?);
    }
    Ok(out)
}

/// Write `<name>.png` and `<name>.svg` for one chart.
pub fn render<C: Chart>(chart: &C, dir: &Path) -> Result<Rendered, Error> {
    register_font();
    let name = chart.name();
    let err = |message: String| Error::Plot { plot: name.to_string(), message };
    let png = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        chart.draw(&root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let mut svg_text = String::new();
    {
        let root = SVGBackend::with_string(&mut svg_text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        chart.draw(&root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let svg = dir.join(format!("{name}.svg"));
    std::fs::write(&svg, &svg_text).map_err(|source| Error::Io { path: svg.clone(), source })?;
    Ok(Rendered { plot: RenderedPlot { name: name.to_string(), title: chart.title(), png, svg }, svg_text })
}

/// Colour of a scheme, stable across charts.
pub fn scheme_color(scheme: &str, index: usize) -> RGBColor {
    match scheme {
        "cookie" => RGBColor(31, 119, 180),
        "session" => RGBColor(214, 39, 40),
        "jwt" => RGBColor(44, 160, 44),
        _ => {
            [RGBColor(148, 103, 189), RGBColor(140, 86, 75), RGBColor(227, 119, 194), RGBColor(127, 127, 127)]
                [index % 4]
        }
    }
}

const SERVER_COLOR: RGBColor = RGBColor(70, 110, 170);
const REDIS_COLOR: RGBColor = RGBColor(220, 90, 60);
const GOOD: RGBColor = RGBColor(60, 160, 90);
const BAD: RGBColor = RGBColor(200, 70, 60);

/// The frame every full-size chart shares: its caption, margin and axis label areas.
fn frame<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: String,
    x_label_area: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(root);
    builder.caption(title, caption_font()).margin(20).x_label_area_size(x_label_area).y_label_area_size(90);
    builder
}

fn caption_font() -> TextStyle<'static> {
    (FONT, 26).into_font().style(FontStyle::Bold).color(&BLACK)
}

fn label_font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

fn centered(size: u32) -> TextStyle<'static> {
    label_font(size).pos(Pos::new(HPos::Center, VPos::Bottom))
}

fn draw_legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .label_font(label_font(15))
        .draw()
}

/// Log-scale bounds with some headroom; `None` if nothing is positive.
fn log_bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    lo.is_finite().then(|| (lo / 1.6, hi * 1.6))
}

/// Labelled ticks for a log axis: 1, 2, 5 × 10^k inside [lo, hi] (plotters alone labels only
/// powers of ten, too few over one decade).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mantissas: &[f64] =
        if hi / lo < 20.0 { &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0] } else { &[1.0, 2.0, 5.0] };
    let mut decade = 10f64.powi(lo.log10().floor() as i32);
    while decade <= hi {
        for m in mantissas {
            let t = decade * m;
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
        decade *= 10.0;
    }
    ticks
}

fn max_of(values: impl Iterator<Item = f64>) -> f64 {
    values.filter(|v| v.is_finite()).fold(0.0, f64::max)
}

/// Label of a categorical axis: the name at integer positions, nothing between.
fn category_label(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < names.len() {
        names[i as usize].clone()
    } else {
        String::new()
    }
}

/// One scheme's p50 and p99 curves.
struct Curves {
    scheme: String,
    color: RGBColor,
    p50: Vec<(f64, f64)>,
    p99: Vec<(f64, f64)>,
}

/// One scheme's line.
struct Line {
    scheme: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Measured memory of one scheme and its fitted line (label, two end points).
struct MemorySeries {
    scheme: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    fit: Option<(String, [(f64, f64); 2])>,
}

fn draw_curves<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    curves: &[Curves],
    markers: bool,
) -> DrawResult<DB> {
    for cv in curves {
        let c = cv.color;
        let size = if markers { 5 } else { 0 };
        chart
            .draw_series(LineSeries::new(cv.p50.iter().copied(), c.stroke_width(3)).point_size(size))?
            .label(format!("{} p50", cv.scheme))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart
            .draw_series(DashedLineSeries::new(cv.p99.iter().copied(), 8, 5, c.stroke_width(2)))?
            .label(format!("{} p99", cv.scheme))
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, c.stroke_width(2)));
        if markers {
            chart.draw_series(cv.p99.iter().map(|&p| TriangleMarker::new(p, 5, c.filled())))?;
        }
    }
    Ok(())
}

fn draw_lines<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
) -> DrawResult<DB> {
    for line in lines {
        let c = line.color;
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), c.stroke_width(3)))?
            .label(line.scheme.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

/// p50 / p99 of `/api/me` against concurrent virtual users, schemes overlaid (ramp.csv).
pub struct LatencyVsUsers {
    series: Vec<Curves>,
}

impl LatencyVsUsers {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series: Vec<_> = a
            .ramp
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p50 = r.levels.iter().filter_map(|l| Some((l.active_vus as f64, l.p50_us?))).collect();
                let p99 = r.levels.iter().filter_map(|l| Some((l.active_vus as f64, l.p99_us?))).collect();
                Curves { scheme: r.scheme.clone(), color: scheme_color(&r.scheme, i), p50, p99 }
            })
            .collect();
        series.iter().any(|s| !s.p50.is_empty()).then_some(LatencyVsUsers { series })
    }
}

impl Chart for LatencyVsUsers {
    fn name(&self) -> &'static str {
        "latency_vs_users"
    }
    fn title(&self) -> String {
        "GET /api/me latency vs concurrent users (p50 solid, p99 dashed)".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.series.iter().flat_map(|s| s.p50.iter().chain(&s.p99).map(|p| p.0))).max(1.0);
        let (ylo, yhi) = log_bounds(self.series.iter().flat_map(|s| s.p50.iter().chain(&s.p99).map(|p| p.1)))
            .unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            0f64..xmax * 1.03,
            (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("concurrent virtual users (closed model)")
            .x_label_formatter(&|v| units::count(*v))
            .y_desc("latency (µs, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .y_label_formatter(&|v| units::axis(*v))
            .draw()?;
        draw_curves(&mut chart, &self.series, false)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Completed `/api/me` requests per second against concurrent users (ramp.csv).
pub struct ThroughputVsUsers {
    series: Vec<Line>,
}

impl ThroughputVsUsers {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series: Vec<_> = a
            .ramp
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let points = r.levels.iter().map(|l| (l.active_vus as f64, l.rps)).collect();
                Line { scheme: r.scheme.clone(), color: scheme_color(&r.scheme, i), points }
            })
            .collect();
        (!series.is_empty()).then_some(ThroughputVsUsers { series })
    }
}

impl Chart for ThroughputVsUsers {
    fn name(&self) -> &'static str {
        "throughput_vs_users"
    }
    fn title(&self) -> String {
        "GET /api/me throughput vs concurrent users".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0))).max(1.0);
        let ymax = max_of(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1))).max(1.0);
        let mut chart =
            frame(root, self.title(), 55).build_cartesian_2d(0f64..xmax * 1.03, 0f64..ymax * 1.15)?;
        chart
            .configure_mesh()
            .x_desc("concurrent virtual users (closed model)")
            .x_label_formatter(&|v| units::count(*v))
            .y_desc("completed requests per second")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .y_label_formatter(&|v| units::count(*v))
            .draw()?;
        draw_lines(&mut chart, &self.series)?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// `/api/me` p50 / p99 at each level of stored sessions (sessions.csv), levels as categories.
pub struct LatencyVsSessions {
    levels: Vec<u64>,
    series: Vec<Curves>,
}

impl LatencyVsSessions {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let mut levels: Vec<u64> =
            a.sessions.iter().flat_map(|s| s.levels.iter().map(|l| l.sessions)).collect();
        levels.sort_unstable();
        levels.dedup();
        if levels.is_empty() {
            return None;
        }
        let pos = |n: u64| levels.iter().position(|&l| l == n).unwrap_or(0) as f64;
        let series = a
            .sessions
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p50 = s.levels.iter().map(|l| (pos(l.sessions), l.p50_us.mean)).collect();
                let p99 = s.levels.iter().map(|l| (pos(l.sessions), l.p99_us.mean)).collect();
                Curves { scheme: s.scheme.clone(), color: scheme_color(&s.scheme, i), p50, p99 }
            })
            .collect();
        Some(LatencyVsSessions { levels, series })
    }
}

impl Chart for LatencyVsSessions {
    fn name(&self) -> &'static str {
        "latency_vs_sessions"
    }
    fn title(&self) -> String {
        "GET /api/me latency vs stored sessions (fixed arrival rate)".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names: Vec<String> = self.levels.iter().map(|&n| units::count(n as f64)).collect();
        let n = self.levels.len() as f64;
        let (ylo, yhi) = log_bounds(self.series.iter().flat_map(|s| s.p50.iter().chain(&s.p99).map(|p| p.1)))
            .unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            -0.3f64..n - 0.7,
            (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("idle logged-in users preloaded (sessions stored; cookie/JWT store nothing)")
            .y_desc("latency (µs, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .x_labels(self.levels.len() * 4 + 4)
            .x_label_formatter(&|x| category_label(&names, *x))
            .y_label_formatter(&|v| units::axis(*v))
            .disable_x_mesh()
            .draw()?;
        draw_curves(&mut chart, &self.series, true)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Redis used_memory (left) and server RSS (right) against stored sessions, with fitted slopes.
pub struct MemoryVsSessions {
    xmax: f64,
    /// Points are (sessions, MiB).
    redis: Vec<MemorySeries>,
    rss: Vec<MemorySeries>,
}

impl MemoryVsSessions {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        const MIB: f64 = 1024.0 * 1024.0;
        let xmax =
            a.sessions.iter().flat_map(|s| s.levels.iter().map(|l| l.sessions as f64)).fold(0.0, f64::max);
        let mut redis = Vec::new();
        let mut rss = Vec::new();
        for (i, s) in a.sessions.iter().enumerate() {
            let c = scheme_color(&s.scheme, i);
            let enough_levels = s.levels.len() >= 3;
            let fit_line = |f: Option<crate::stats::LinearFit>| {
                f.map(|f| {
                    let r2 = match (enough_levels, f.r2.is_finite()) {
                        (true, true) => format!(", R² {:.3}", f.r2),
                        (false, _) => " (2 levels)".to_string(),
                        (true, false) => String::new(),
                    };
                    (
                        format!("{} fit: {}/session{r2}", s.scheme, units::bytes(f.slope)),
                        [(0.0, f.predict(0.0) / MIB), (xmax, f.predict(xmax) / MIB)],
                    )
                })
            };
            let pts: Vec<(f64, f64)> = s
                .levels
                .iter()
                .filter_map(|l| Some((l.sessions as f64, l.redis_used_memory?.mean / MIB)))
                .collect();
            if !pts.is_empty() {
                redis.push(MemorySeries {
                    scheme: s.scheme.clone(),
                    color: c,
                    points: pts,
                    fit: fit_line(s.redis_fit),
                });
            }
            let pts: Vec<(f64, f64)> = s
                .levels
                .iter()
                .filter_map(|l| Some((l.sessions as f64, l.server_rss_bytes?.mean / MIB)))
                .collect();
            if !pts.is_empty() {
                rss.push(MemorySeries {
                    scheme: s.scheme.clone(),
                    color: c,
                    points: pts,
                    fit: fit_line(s.rss_fit),
                });
            }
        }
        (!redis.is_empty() || !rss.is_empty()).then_some(MemoryVsSessions { xmax: xmax.max(1.0), redis, rss })
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        series: &[MemorySeries],
    ) -> DrawResult<DB> {
        let ymax =
            max_of(series.iter().flat_map(|s| {
                s.points.iter().map(|p| p.1).chain(s.fit.iter().flat_map(|f| f.1.map(|p| p.1)))
            }))
            .max(1.0);
        let mut chart = ChartBuilder::on(area)
            .caption(title, label_font(20))
            .margin(15)
            .x_label_area_size(55)
            .y_label_area_size(80)
            // Headroom above the data for the legend (up to six entries).
            .build_cartesian_2d(0f64..self.xmax * 1.03, 0f64..ymax * 1.6)?;
        chart
            .configure_mesh()
            .x_desc("stored sessions (idle logged-in users)")
            .y_desc("memory (MiB)")
            .axis_desc_style(label_font(16))
            .label_style(label_font(14))
            .x_label_formatter(&|v| units::count(*v))
            .y_label_formatter(&|v| units::axis(*v))
            .draw()?;
        if series.is_empty() {
            area.draw(&Text::new("not measured in this run", (200, 250), label_font(18)))?;
        }
        for MemorySeries { scheme, color, points, fit } in series {
            let c = *color;
            chart
                .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)).point_size(5))?
                .label(format!("{scheme} measured"))
                .legend(move |(x, y)| Circle::new((x + 12, y), 5, c.filled()));
            if let Some((label, line)) = fit {
                chart
                    .draw_series(DashedLineSeries::new(
                        line.iter().copied(),
                        6,
                        4,
                        c.mix(0.8).stroke_width(1),
                    ))?
                    .label(label.clone())
                    .legend(move |(x, y)| {
                        DashedPathElement::new(vec![(x, y), (x + 24, y)], 5, 3, c.stroke_width(1))
                    });
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

impl Chart for MemoryVsSessions {
    fn name(&self) -> &'static str {
        "memory_vs_sessions"
    }
    fn title(&self) -> String {
        "Memory vs stored sessions (dashed: least-squares fit, slope = bytes per session)".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = root.titled(&self.title(), caption_font())?;
        let panels = body.split_evenly((1, 2));
        self.panel(&panels[0], "Redis used_memory", &self.redis)?;
        self.panel(&panels[1], "auth server RSS", &self.rss)
    }
}

/// CPU µs per `/api/me`, stacked server + redis-server, with the `/healthz` baseline.
pub struct CpuPerRequest {
    bars: Vec<(String, f64, f64, Option<f64>)>,
}

impl CpuPerRequest {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let bars: Vec<_> = a
            .schemes
            .iter()
            .filter_map(|s| a.cpu(s).map(|c| (s.clone(), c.server_us, c.redis_us.max(0.0), c.healthz_us)))
            .collect();
        (!bars.is_empty()).then_some(CpuPerRequest { bars })
    }
}

impl Chart for CpuPerRequest {
    fn name(&self) -> &'static str {
        "cpu_per_request"
    }
    fn title(&self) -> String {
        "CPU time per GET /api/me request: auth server + redis-server".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let n = self.bars.len() as f64;
        let ymax = max_of(self.bars.iter().flat_map(|b| [b.1 + b.2, b.3.unwrap_or(0.0)]))
            .max(f64::MIN_POSITIVE)
            * 1.25;
        let mut chart = frame(root, self.title(), 50).build_cartesian_2d(-0.6f64..n - 0.4, 0f64..ymax)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.bars.len() * 4 + 4)
            .x_label_formatter(&|x| category_label(&names, *x))
            .x_desc("scheme")
            .y_desc("CPU time per request (µs)")
            .y_label_formatter(&|v| units::axis(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(16))
            .draw()?;
        let w = 0.3;
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new([(i as f64 - w, 0.0), (i as f64 + w, b.1)], SERVER_COLOR.filled())
            }))?
            .label("auth server process (utime+stime)")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], SERVER_COLOR.filled()));
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new([(i as f64 - w, b.1), (i as f64 + w, b.1 + b.2)], REDIS_COLOR.filled())
            }))?
            .label("redis-server process")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], REDIS_COLOR.filled()));
        if self.bars.iter().any(|b| b.3.is_some()) {
            chart
                .draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                    let h = b.3?;
                    Some(PathElement::new(
                        vec![(i as f64 - w - 0.05, h), (i as f64 + w + 0.05, h)],
                        BLACK.stroke_width(3),
                    ))
                }))?
                .label("server CPU for GET /healthz (no auth baseline)")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(3)));
        }
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            let label = if b.2 > 0.0 {
                format!("{} + {} = {}", units::us(b.1), units::us(b.2), units::us(b.1 + b.2))
            } else {
                units::us(b.1)
            };
            Text::new(label, (i as f64, (b.1 + b.2) + ymax * 0.015), centered(16))
        }))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// HdrHistogram percentile spectrum per scheme, log-log (x = 1/(1−p)).
pub struct Spectrum {
    series: Vec<Line>,
}

/// Cap of the 1/(1−p) axis: 99.9999th percentile.
const SPECTRUM_X_MAX: f64 = 1e6;

impl Spectrum {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series: Vec<_> = a
            .spectrum
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let points = s
                    .points
                    .iter()
                    // p = 100 (the maximum) has no place on a 1/(1−p) axis; the text gives it.
                    .filter(|(p, v)| *v > 0.0 && *p < 100.0)
                    .map(|&(p, v)| ((1.0 / (1.0 - p / 100.0)).clamp(1.0, SPECTRUM_X_MAX), v))
                    .collect();
                Line { scheme: s.scheme.clone(), color: scheme_color(&s.scheme, i), points }
            })
            .collect();
        (!series.is_empty()).then_some(Spectrum { series })
    }
}

fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    if p <= 0.0 {
        return "0%".into();
    }
    let decimals = (-(100.0 - p).log10()).round().max(0.0) as usize;
    format!("{p:.decimals$}%")
}

impl Chart for Spectrum {
    fn name(&self) -> &'static str {
        "latency_spectrum"
    }
    fn title(&self) -> String {
        "GET /api/me latency by percentile (HdrHistogram, all repeats merged)".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0))).max(10.0);
        let (ylo, yhi) =
            log_bounds(self.series.iter().flat_map(|s| s.points.iter().map(|p| p.1))).unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            (1f64..xmax * 1.5).log_scale(),
            (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1/(1−p))")
            .y_desc("latency (µs, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|v| units::axis(*v))
            .draw()?;
        draw_lines(&mut chart, &self.series)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Bytes of the credential header and of the whole request, per scheme.
pub struct CredentialBytes {
    bars: Vec<(String, RGBColor, f64, Option<f64>, String)>,
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
        (!bars.is_empty()).then_some(CredentialBytes { bars })
    }
}

impl Chart for CredentialBytes {
    fn name(&self) -> &'static str {
        "credential_bytes"
    }
    fn title(&self) -> String {
        "Bytes sent with every authenticated request".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names: Vec<String> = self
            .bars
            .iter()
            .map(|b| if b.4.is_empty() { b.0.clone() } else { format!("{} ({})", b.0, b.4) })
            .collect();
        let n = self.bars.len() as f64;
        let ymax = max_of(self.bars.iter().flat_map(|b| [b.2, b.3.unwrap_or(0.0)])).max(1.0) * 1.2;
        let mut chart = frame(root, self.title(), 50).build_cartesian_2d(-0.6f64..n - 0.4, 0f64..ymax)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.bars.len() * 4 + 4)
            .x_label_formatter(&|x| category_label(&names, *x))
            .x_desc("scheme (header carrying the credential)")
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
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(1e4), "99.99%");
    }

    #[test]
    fn category_labels_only_at_integers() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(category_label(&names, 1.0), "b");
        assert_eq!(category_label(&names, 0.5), "");
        assert_eq!(category_label(&names, 2.0), "");
    }
}
