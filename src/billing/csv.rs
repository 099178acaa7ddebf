//! CSV exports (RFC 4180): a header row, then one row per record, fields quoted when needed.

/// One field, quoted if it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A CSV document from a header and rows, lines ended by CRLF as RFC 4180 says.
pub fn document<R: AsRef<[String]>>(header: &[&str], rows: &[R]) -> String {
    let mut out = String::new();
    let line = |fields: Vec<String>| fields.join(",") + "\r\n";
    out.push_str(&line(header.iter().map(|h| field(h)).collect()));
    for row in rows {
        out.push_str(&line(row.as_ref().iter().map(|f| field(f)).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        let csv = document(
            &["a", "b"],
            &[vec![
                "plain".to_owned(),
                "with, comma \"and\" quote".to_owned(),
            ]],
        );
        assert_eq!(csv, "a,b\r\nplain,\"with, comma \"\"and\"\" quote\"\r\n");
    }
}
