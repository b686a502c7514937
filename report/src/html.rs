//! `report.html`: the same document as one self-contained page; every plot is inlined as SVG,
//! so the file can be mailed or attached without its directory.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::doc::{Block, Document};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:1100px;\
margin:2em auto;padding:0 1em;line-height:1.45;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:0.92em}\
th,td{border:1px solid #ccc;padding:0.35em 0.6em;vertical-align:top;text-align:left}\
th{background:#f3f3f3}code,pre{background:#f6f6f6;font-family:'DejaVu Sans Mono',monospace}\
.wide{overflow-x:auto}pre{padding:0.8em;overflow-x:auto}figure{margin:1em 0}figure svg{max-width:100%;height:auto}\
figcaption{font-size:0.9em;color:#555}";

/// Write the page; `svgs` maps a plot name to its SVG text (plots without one are linked).
pub fn write<W: Write>(w: &mut W, doc: &Document, svgs: &BTreeMap<String, String>) -> io::Result<()> {
    writeln!(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(w, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(w, "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>", escape(&doc.title))?;
    writeln!(w, "<h1>{}</h1>", inline(&doc.title))?;
    for block in &doc.blocks {
        match block {
            Block::Heading(level, text) => {
                let l = (*level).clamp(1, 6);
                writeln!(w, "<h{l} id=\"{}\">{}</h{l}>", slug(text), inline(text))?
            }
            Block::Paragraph(text) => writeln!(w, "<p>{}</p>", inline(text))?,
            Block::Bullets(items) => {
                writeln!(w, "<ul>")?;
                for item in items {
                    writeln!(w, "<li>{}</li>", inline(item))?;
                }
                writeln!(w, "</ul>")?;
            }
            Block::Table { header, rows } => {
                // A wide table scrolls inside its own box, never the page.
                writeln!(w, "<div class=\"wide\"><table>\n<thead><tr>")?;
                for c in header {
                    write!(w, "<th>{}</th>", inline(c))?;
                }
                writeln!(w, "</tr></thead>\n<tbody>")?;
                for row in rows {
                    write!(w, "<tr>")?;
                    for c in row {
                        write!(w, "<td>{}</td>", inline(c))?;
                    }
                    writeln!(w, "</tr>")?;
                }
                writeln!(w, "</tbody>\n</table></div>")?;
            }
            Block::Plot { name, title } => {
                writeln!(w, "<figure id=\"plot-{}\">", slug(name))?;
                match svgs.get(name) {
                    Some(svg) => writeln!(w, "{}", strip_xml_declaration(svg))?,
                    None => writeln!(w, "<a href=\"{0}.svg\">{0}.svg</a>", escape(name))?,
                }
                writeln!(w, "<figcaption>{}</figcaption>\n</figure>", inline(title))?;
            }
            Block::Code(text) => writeln!(w, "<pre><code>{}</code></pre>", escape(text))?,
        }
    }
    writeln!(w, "</body>\n</html>")
}

fn strip_xml_declaration(svg: &str) -> &str {
    let s = svg.trim_start();
    match s.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(s, |i| rest[i + 2..].trim_start()),
        None => s,
    }
}

/// Escape `&`, `<`, `>`, `"`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escape, then turn `` `code` `` and `**bold**` spans into tags.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        // Odd parts sit between backticks (an unmatched trailing backtick leaves plain text).
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            for (j, piece) in links(&escape(part)).split("**").enumerate() {
                if j % 2 == 1 {
                    out.push_str("<strong>");
                    out.push_str(piece);
                    out.push_str("</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

/// Markdown links `[text](target)` as `<a>` (in text already escaped).
fn links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let Some(end) = after[close + 2..].find(')') else { break };
        let (label, target) = (&after[..close], &after[close + 2..close + 2 + end]);
        if target.contains(char::is_whitespace) {
            break;
        }
        out.push_str(&rest[..open]);
        out.push_str(&format!("<a href=\"{target}\">{label}</a>"));
        rest = &after[close + 3 + end..];
    }
    out.push_str(rest);
    out
}

fn slug(text: &str) -> String {
    let s: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_spans_and_escaping() {
        assert_eq!(inline("a `<b>` **c** & d"), "a <code>&lt;b&gt;</code> <strong>c</strong> &amp; d");
        assert_eq!(slug("What this means: p50 vs users"), "what-this-means-p50-vs-users");
        assert_eq!(
            inline("see [the method](#how-it-works) here"),
            "see <a href=\"#how-it-works\">the method</a> here"
        );
    }

    #[test]
    fn plots_are_inlined() {
        let mut d = Document::new("R & D");
        d.plot("lat", "Latency");
        d.plot("gone", "Not drawn");
        let svgs = BTreeMap::from([(
            "lat".to_string(),
            "<?xml version=\"1.0\"?>\n<svg id=\"x\"></svg>".to_string(),
        )]);
        let mut out = Vec::new();
        write(&mut out, &d, &svgs).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("<title>R &amp; D</title>"));
        assert!(
            s.contains("<figure id=\"plot-lat\">\n<svg id=\"x\"></svg>\n<figcaption>Latency</figcaption>"),
            "{s}"
        );
        assert!(s.contains("<a href=\"gone.svg\">gone.svg</a>"));
        assert!(!s.contains("<?xml"));
    }
}
