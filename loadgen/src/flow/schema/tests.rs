use super::*;

fn parsed(text: &str) -> Result<Flow, String> {
    parse(text, Path::new("."), "t", Origin::File("t.toml".into()))
}

const WEB_APP: &str = r#"
name = "shop"
[users]
name = "shopper{i}@example.com"
password = "pw-{i}"
[login]
path = "/session"
body = "email={user}&password={password}"
content_type = "application/x-www-form-urlencoded"
expect = [302]
[credential]
cookies = ["_shop_session"]
[csrf]
cookie = "XSRF-TOKEN"
header = "X-XSRF-TOKEN"
[[request]]
name = "cart"
path = "/cart"
weight = 9
[[request]]
name = "add"
method = "post"
path = "/cart/items"
body = '{"sku": 42}'
weight = 1
expect = [201]
[logout]
method = "DELETE"
path = "/session"
expect = ["2xx", 302]
[refused]
status = [401]
redirect = "/login"
"#;

#[test]
fn a_web_app_with_a_form_login_csrf_and_two_requests() {
    let f = parsed(WEB_APP).unwrap();
    assert_eq!(f.name, "shop");
    assert_eq!(f.login_body(3).unwrap(), &b"email=shopper3%40example.com&password=pw-3"[..]);
    assert!(
        f.login.expect.contains(http::StatusCode::FOUND) && !f.login.expect.contains(http::StatusCode::OK)
    );
    assert_eq!(f.requests.len(), 2);
    assert!(!f.requests[0].step.csrf && f.requests[1].step.csrf && f.logout.as_ref().unwrap().csrf);
    assert_eq!(fixed(&f.requests[1].step.body).unwrap(), &b"{\"sku\": 42}"[..]);
    assert_eq!(f.requests[1].step.method, Method::POST);
    let picks: Vec<&str> = (0..10).map(|r| f.pick(r).name.as_str()).collect();
    assert_eq!(picks.iter().filter(|n| **n == "add").count(), 1, "{picks:?}");
    assert_eq!(f.refused.redirect.as_deref(), Some("/login"));
    assert!(f.refresh.is_none() && f.logout_all.is_none());
}

#[test]
fn a_token_api_with_refresh_in_a_header() {
    let f = parsed(
        r#"
[login]
path = "/oauth/token"
body = '{"grant_type":"password","username":"{user}","password":"{password}"}'
[credential]
json = "data.access"
send = "header:X-Api-Token"
prefix = "Token "
refresh_token = "data.refresh"
[[request]]
path = "/v1/profile?full=1"
[refresh]
path = "/oauth/refresh"
header = "Authorization: Refresh {refresh}"
"#,
    )
    .unwrap();
    assert_eq!(f.name, "t", "the file's stem");
    let r = f.refresh.as_ref().unwrap();
    assert!(!r.send_credential && r.header.is_some());
    assert_eq!(f.requests[0].name, "/v1/profile?full=1");
}

#[test]
fn mistakes_are_named() {
    let base = "[login]\npath = \"/l\"\n[credential]\ncookies = [\"s\"]\n[[request]]\npath = \"/me\"\n";
    for (text, needle) in [
        (format!("{base}[logut]\npath = \"/x\""), "logut"),
        ("[login]\npath = \"/l\"\n[credential]\ncookies = [\"s\"]".into(), "[[request]]"),
        (base.replace("cookies = [\"s\"]", "cookies = [\"s\"]\njson = \"t\""), "not both"),
        (base.replace("cookies = [\"s\"]", ""), "say where it is"),
        (base.replace("path = \"/me\"", "path = \"me\""), "starting with /"),
        (format!("{base}[refresh]\npath = \"/r\"\nbody = '{{\"t\":\"{{refresh}}\"}}'"), "refresh_token"),
        (format!("{base}[csrf]\njson = \"c\"\ncookie = \"c\"\nheader = \"X-C\""), "one of"),
        (
            base.replace("cookies = [\"s\"]", "json = \"t\"") + "[csrf]\ncookie = \"c\"\nheader = \"X\"",
            "csrf.cookie",
        ),
        (format!("{base}[refused]\nstatus = [\"4x\"]"), "refused.status"),
        (base.replace("path = \"/me\"", "path = \"/me\"\nweight = 0"), "weights"),
        (base.replace("[login]\npath = \"/l\"", "[login]\npath = \"/l\"\nweight = 2"), "login"),
        (base.replace("[login]\npath = \"/l\"", "[login]\npath = \"/l\"\nbody = \"{refresh}\""), "{refresh}"),
        (
            base.replace("json", "x").replace("cookies = [\"s\"]", "json = \"a\"\nsend = \"query\""),
            "credential.send",
        ),
        (format!("{base}[users]\nlist = \"../../etc/passwd\""), "own folder"),
    ] {
        let e = parsed(&text).unwrap_err();
        assert!(e.contains(needle), "{text}\n→ {e}");
    }
}
