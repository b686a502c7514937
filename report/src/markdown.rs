//! `report.md`: the document as GitHub-flavoured Markdown; plots as PNG images linking to the SVG.

use std::io::{self, Write};

use super::doc::{Block, Document};

pub fn write<W: Write>(w: &mut W, doc: &Document) -> io::Result<()> {
    writeln!(w, "# {}", doc.title)?;
    for block in &doc.blocks {
        writeln!(w)?;
        match block {
            Block::Heading(level, text) => {
                writeln!(w, "{} {}", "#".repeat((*level).clamp(1, 6) as usize), text)?
            }
            Block::Paragraph(text) => writeln!(w, "{text}")?,
            Block::Bullets(items) => {
                for item in items {
                    writeln!(w, "- {item}")?;
                }
            }
            Block::Table { header, rows } => {
                writeln!(w, "| {} |", header.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "))?;
                writeln!(w, "|{}", "---|".repeat(header.len()))?;
                for row in rows {
                    writeln!(w, "| {} |", row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "))?;
                }
            }
            Block::Plot { name, title } => writeln!(w, "[![{title}]({name}.png)]({name}.svg)")?,
            Block::Code(text) => writeln!(w, "```\n{text}\n```")?,
        }
    }
    Ok(())
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_block() {
        let mut d = Document::new("T");
        d.h(2, "Section");
        d.p("Text with `code`.");
        d.bullets(vec!["a".into(), "b".into()]);
        d.table(vec!["x".into(), "y|z".into()], vec![vec!["1".into(), "2".into()]]);
        d.plot("p", "A plot");
        d.code("f = m·x");
        let mut out = Vec::new();
        write(&mut out, &d).unwrap();
        let s = String::from_utf8(out).unwrap();
        let want = "# T\n\n## Section\n\nText with `code`.\n\n- a\n- b\n\n| x | y\\|z |\n|---|---|\n| 1 | 2 |\n\n\
                    [![A plot](p.png)](p.svg)\n\n```\nf = m·x\n```\n";
        assert_eq!(s, want);
    }
}
