//! The first-run setup page: a form (setup token, tenant name, e-mail, password) whose small inline
//! script posts JSON to `POST /api/v1/setup` and shows the answer.
//!
//! Invariant: the server never writes the token into the page (the script reads it from the
//! page's own address and then drops it from the address bar), the script writes answers only as
//! text, never as HTML, and the page's Content-Security-Policy allows exactly this script and
//! style, by SHA-256 hash: no `unsafe-inline`, no other origin, no form navigation.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;\
padding:0 1rem;line-height:1.4}label{display:block;margin:.8rem 0 .2rem}\
input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}\
#result{white-space:pre-line;margin-top:1rem}";

const BODY: &str = r#"<h1>Finish setting up AuditPulse</h1>
<p>No user exists yet. Create the first tenant and its administrator, who is also a system
administrator. The setup token comes from the address printed by <code>auditpulse serve</code>;
it works once and expires an hour after the server started (restart the server for a new one).</p>
<form id="setup" method="post" action="/api/v1/setup">
<label for="token">Setup token</label>
<input id="token" name="token" type="text" autocomplete="off" spellcheck="false" required>
<label for="tenant_name">Tenant name</label>
<input id="tenant_name" name="tenant_name" type="text" maxlength="200" required>
<label for="email">Your e-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password (12 to 128 characters, not a common one)</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="12" maxlength="128" required>
<button type="submit">Set up</button>
</form>
<p id="result" role="status"></p>
"#;

const SCRIPT: &str = r#"
const form = document.getElementById('setup');
const result = document.getElementById('result');
const token = new URLSearchParams(location.search).get('token');
if (token) {
  form.elements.token.value = token;
  history.replaceState(null, '', location.pathname);
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {};
  for (const name of ['token', 'tenant_name', 'email', 'password']) {
    body[name] = form.elements[name].value;
  }
  result.textContent = 'Setting up...';
  try {
    const response = await fetch('/api/v1/setup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (response.status === 201) {
      form.hidden = true;
      result.textContent = 'Done: tenant "' + answer.tenant.name + '" (' + answer.tenant.slug
        + ') and its administrator ' + answer.user.email
        + ' are created. Log in with POST /api/v1/auth/login.';
    } else {
      const fields = (answer.error.fields || []).map((f) => f.field + ': ' + f.message);
      result.textContent = [answer.error.message].concat(fields).join('\n');
    }
  } catch (error) {
    result.textContent = 'The server did not answer: ' + error.message;
  }
});
"#;

/// The page's HTML.
pub fn html() -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>AuditPulse setup</title><style>{STYLE}</style></head>\n<body>\n{BODY}\
         <script>{SCRIPT}</script>\n</body></html>\n"
    )
}

fn sha256(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The page's Content-Security-Policy: its own script and style by hash, requests to itself only.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; \
         form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        sha256(SCRIPT),
        sha256(STYLE)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_script_and_style() {
        let page = html();
        let script = page
            .split("<script>")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        let style = page
            .split("<style>")
            .nth(1)
            .unwrap()
            .split("</style>")
            .next()
            .unwrap();
        let policy = content_security_policy();
        assert!(policy.contains(&sha256(script)) && policy.contains(&sha256(style)));
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(page.matches("<script").count(), 1);
    }
}
