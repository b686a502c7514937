//! The lexer: comments and string, byte-string, raw-string and char literals blanked, then the
//! text split into identifiers, `::` and single punctuation characters.

fn at(c: &[char], i: usize) -> Option<char> {
    c.get(i).copied()
}

fn is_ident(ch: Option<char>) -> bool {
    ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_')
}

/// Where a raw string starting at `i` (`r"`, `r#"`, `br"`…) opens: the number of `#`s, or `None`.
fn raw_string(c: &[char], i: usize) -> Option<usize> {
    if at(c, i) != Some('r') {
        return None;
    }
    let before = i.checked_sub(1).and_then(|k| at(c, k));
    let prefix_ok =
        !is_ident(before) || (before == Some('b') && !is_ident(i.checked_sub(2).and_then(|k| at(c, k))));
    let mut k = i + 1;
    while at(c, k) == Some('#') {
        k += 1;
    }
    (prefix_ok && at(c, k) == Some('"')).then_some(k - i - 1)
}

/// Comments, string, byte-string, raw-string and char literals replaced by spaces.
pub fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && at(&c, i + 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(&c, i + 1) == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(&c, i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(&c, i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(hashes) = raw_string(&c, i) {
            i += hashes + 2;
            while i < c.len() && !(c[i] == '"' && (1..=hashes).all(|k| at(&c, i + k) == Some('#'))) {
                i += 1;
            }
            i += 1 + hashes;
            out.push(' ');
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c[i] == '\'' && at(&c, i + 1) == Some('\\') {
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c[i] == '\'' && at(&c, i + 2) == Some('\'') {
            i += 3;
            out.push(' ');
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

pub fn tokenize(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_alphabetic() || c[i] == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".to_owned());
            i += 2;
        } else if c[i].is_whitespace() || c[i].is_ascii_digit() {
            i += 1;
        } else {
            out.push(c[i].to_string());
            i += 1;
        }
    }
    out
}
