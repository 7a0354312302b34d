//! Escaping text for the report's markup, HTML and SVG alike: the one leaf both `html` (the page)
//! and `svg` (its charts) use, so that neither imports the other's internals (`html` uses `svg`,
//! never the reverse).

/// Escapes text for HTML and SVG content and attribute values (`&`, `<`, `>`, `"`, `'`).
///
/// ```
/// assert_eq!(spotcheck::report::markup::escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
