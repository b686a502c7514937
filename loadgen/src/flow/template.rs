//! Request bodies and header values with `{user}`, `{password}` and `{refresh}` in them. A
//! template is split once, when the flow is read; rendering fills the variables, escaped for the
//! body's type (JSON string content, form-urlencoded, or as is). A template without variables is
//! rendered once, when the flow is read, and sent as those bytes every time.

use bytes::Bytes;

/// What a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    User,
    Password,
    /// The refresh credential the last login or refresh handed out.
    Refresh,
}

impl Var {
    fn name(self) -> &'static str {
        match self {
            Var::User => "user",
            Var::Password => "password",
            Var::Refresh => "refresh",
        }
    }
}

/// How a variable's value is escaped into the text around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Inside a JSON string: `"` and `\` and control characters escaped.
    Json,
    /// `application/x-www-form-urlencoded`: percent-encoded.
    Form,
    /// As is (a header value, a plain body).
    Raw,
}

impl Escape {
    /// The escaping a body of this content type needs.
    pub fn for_content_type(content_type: &str) -> Escape {
        let t = content_type.to_ascii_lowercase();
        if t.contains("json") {
            Escape::Json
        } else if t.contains("x-www-form-urlencoded") {
            Escape::Form
        } else {
            Escape::Raw
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A split template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    escape: Escape,
}

/// The values a rendering fills in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Values<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub refresh: &'a str,
}

impl Template {
    /// Split `text` at `{user}`, `{password}`, `{refresh}`; `allowed` are the variables this
    /// template may use (a request body may name none). `{{` and `}}` are literal braces.
    pub fn parse(text: &str, escape: Escape, allowed: &[Var]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("{{") {
                literal.push('{');
                rest = r;
            } else if let Some(r) = rest.strip_prefix("}}") {
                literal.push('}');
                rest = r;
            } else if let Some(var) = [Var::User, Var::Password, Var::Refresh]
                .into_iter()
                .find(|v| rest.starts_with(&format!("{{{}}}", v.name())))
            {
                if !allowed.contains(&var) {
                    return Err(format!("`{{{}}}` cannot be used here", var.name()));
                }
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Var(var));
                rest = &rest[var.name().len() + 2..];
            } else {
                let c = rest.chars().next().expect("not empty");
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts, escape })
    }

    pub fn uses(&self, var: Var) -> bool {
        self.parts.contains(&Part::Var(var))
    }

    /// The text with the variables filled in.
    pub fn render(&self, values: &Values<'_>) -> Bytes {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    let value = match v {
                        Var::User => values.user,
                        Var::Password => values.password,
                        Var::Refresh => values.refresh,
                    };
                    escape_into(&mut out, value, self.escape);
                }
            }
        }
        Bytes::from(out)
    }
}

fn escape_into(out: &mut String, value: &str, escape: Escape) {
    match escape {
        Escape::Raw => out.push_str(value),
        Escape::Json if value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') => out.push_str(value),
        Escape::Json => {
            let quoted = serde_json::to_string(value).expect("a string serializes");
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Escape::Form => {
            for b in value.bytes() {
                match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        out.push(b as char)
                    }
                    b' ' => out.push('+'),
                    _ => out.push_str(&format!("%{b:02X}")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Var; 3] = [Var::User, Var::Password, Var::Refresh];

    #[test]
    fn renders_escaped_for_the_body_type() {
        let v = Values { user: "a\"b", password: "p w&=", refresh: "" };
        let json =
            Template::parse(r#"{"username":"{user}","password":"{password}"}"#, Escape::Json, &ALL).unwrap();
        assert_eq!(&json.render(&v)[..], br#"{"username":"a\"b","password":"p w&="}"#);
        let form = Template::parse("username={user}&password={password}", Escape::Form, &ALL).unwrap();
        assert_eq!(&form.render(&v)[..], b"username=a%22b&password=p+w%26%3D");
        let raw = Template::parse("Bearer {refresh}", Escape::Raw, &ALL).unwrap();
        assert_eq!(&raw.render(&Values { refresh: "r.t", ..v })[..], b"Bearer r.t");
        assert!(raw.uses(Var::Refresh) && !raw.uses(Var::User));
    }

    #[test]
    fn braces_and_unknown_names_stay_text_and_forbidden_variables_are_refused() {
        let t = Template::parse("{{x}} {other} {user", Escape::Raw, &[]).unwrap();
        assert_eq!(&t.render(&Values::default())[..], b"{x} {other} {user");
        let e = Template::parse("{password}", Escape::Raw, &[Var::User]).unwrap_err();
        assert!(e.contains("{password}"), "{e}");
    }
}
