//! The report as a small document model, written to Markdown by [`super::markdown`] and to HTML
//! by [`super::html`], so both say exactly the same thing.
//!
//! Inline text may use two Markdown spans, which the HTML writer translates: `` `code` `` and
//! `**bold**`. Nothing else is interpreted.

/// A block of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1–4 heading.
    Heading(u8, String),
    Paragraph(String),
    Bullets(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A rendered chart, by file stem (`<name>.png` / `<name>.svg` beside the report).
    Plot {
        name: String,
        title: String,
    },
    /// Preformatted text (formulas, command lines).
    Code(String),
}

/// A whole report: a title and its blocks in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn new(title: impl Into<String>) -> Self {
        Document { title: title.into(), blocks: Vec::new() }
    }
    pub fn h(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }
    pub fn p(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }
    pub fn bullets(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::Bullets(items));
        }
    }
    pub fn table(&mut self, header: Vec<String>, rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table { header, rows });
    }
    pub fn plot(&mut self, name: impl Into<String>, title: impl Into<String>) {
        self.blocks.push(Block::Plot { name: name.into(), title: title.into() });
    }
    pub fn code(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Code(text.into()));
    }
}
