//! What every chart shares: the [`Chart`] trait, its drawing result, the size and the embedded
//! font, the scheme colours, and what a rendered chart is ([`Rendered`], [`RenderedPlot`]).

use std::path::PathBuf;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub const SIZE: (u32, u32) = (1100, 640);
pub const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

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

/// One chart written as `<name>.png` and `<name>.svg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPlot {
    pub name: String,
    pub title: String,
    pub png: PathBuf,
    pub svg: PathBuf,
}

/// A chart and its SVG text (inlined into report.html).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub plot: RenderedPlot,
    pub svg_text: String,
}

pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    fn name(&self) -> &'static str;
    fn title(&self) -> String;
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
    /// A footnote under the chart: what its whiskers or bands are ([`spread::interval_note`]),
    /// that one repeat has no interval, or why a figure has no spread. Empty: no footnote.
    fn note(&self) -> String {
        String::new()
    }
}

/// Colour of a scheme, the same in every chart: by name for the seven schemes (an index-based
/// colour swapped two schemes between charts that list different subsets), by index for others.
pub fn scheme_color(scheme: &str, index: usize) -> RGBColor {
    match scheme {
        "cookie" => RGBColor(31, 119, 180),
        "session" => RGBColor(214, 39, 40),
        "jwt" => RGBColor(44, 160, 44),
        "jwt-revocable" => RGBColor(148, 103, 189),
        "jwt-pubsub" => RGBColor(140, 86, 75),
        "session-cached" => RGBColor(227, 119, 194),
        "session-tracked" => RGBColor(255, 127, 14),
        _ => [RGBColor(127, 127, 127), RGBColor(188, 189, 34), RGBColor(23, 190, 207)][index % 3],
    }
}

pub const SERVER_COLOR: RGBColor = RGBColor(70, 110, 170);
pub const REDIS_COLOR: RGBColor = RGBColor(220, 90, 60);
pub const PROXY_COLOR: RGBColor = RGBColor(120, 170, 90);
pub const GOOD: RGBColor = RGBColor(60, 160, 90);
pub const BAD: RGBColor = RGBColor(200, 70, 60);
