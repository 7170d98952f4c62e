//! The CGI conventions a WASI worker speaks, as WAGI uses them (RFC 3875
//! for the environment; its "document response" for stdout).
//!
//! In: the request body on stdin, and in the environment `REQUEST_METHOD`,
//! `PATH_INFO`, `QUERY_STRING`, `CONTENT_LENGTH`, `CONTENT_TYPE`,
//! `SERVER_PROTOCOL`, `GATEWAY_INTERFACE`, `SERVER_SOFTWARE`, `X_FULL_URL`
//! and each request header as `HTTP_<NAME>` (upper case, `-` as `_`).
//!
//! Out: stdout starts with a header block, lines of `Name: value` ended by
//! an empty line (`\n` or `\r\n` line ends), then the body. `Status: 404
//! Not Found` sets the status (200 without it, 302 when only `Location` is
//! given); every other line becomes a response header.

/// Most bytes of the header block.
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// Most header lines.
pub const MAX_HEADERS: usize = 100;

/// The environment of a run for one request.
pub fn request_env(
    method: &str,
    path: &str,
    query: &str,
    url: &str,
    headers: &[(String, String)],
    body_len: usize,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("GATEWAY_INTERFACE".to_string(), "CGI/1.1".to_string()),
        ("SERVER_PROTOCOL".to_string(), "HTTP/1.1".to_string()),
        ("SERVER_SOFTWARE".to_string(), "sworn".to_string()),
        ("REQUEST_METHOD".to_string(), method.to_string()),
        ("PATH_INFO".to_string(), path.to_string()),
        ("QUERY_STRING".to_string(), query.to_string()),
        ("X_FULL_URL".to_string(), url.to_string()),
        ("CONTENT_LENGTH".to_string(), body_len.to_string()),
    ];
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-type") {
            env.push(("CONTENT_TYPE".to_string(), value.clone()));
        } else if !name.eq_ignore_ascii_case("content-length") {
            let var: String = name.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect();
            env.push((format!("HTTP_{var}"), value.clone()));
        }
    }
    env
}

/// A response read from stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why stdout is not a CGI response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CgiError {
    #[error("stdout has no header block ended by an empty line (write e.g. \"Content-Type: text/plain\\n\\n\" first)")]
    NoHeaderBlock,
    #[error("the header block on stdout is longer than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("the header block on stdout has more than {MAX_HEADERS} lines")]
    TooManyHeaders,
    #[error("header line {line} on stdout is not `Name: value`")]
    BadLine { line: usize },
    #[error("the Status header on stdout is not a 3-digit code from 200 to 599: {0:?}")]
    BadStatus(String),
}

/// Splits stdout into status, headers and body.
pub fn parse_response(stdout: &[u8]) -> Result<CgiResponse, CgiError> {
    let mut headers = Vec::new();
    let mut status = None;
    let mut at = 0;
    loop {
        let rest = &stdout[at..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return Err(if at > MAX_HEAD_BYTES { CgiError::HeadTooLarge } else { CgiError::NoHeaderBlock });
        };
        let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
        at += nl + 1;
        if at > MAX_HEAD_BYTES {
            return Err(CgiError::HeadTooLarge);
        }
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(CgiError::TooManyHeaders);
        }
        let bad = || CgiError::BadLine { line: headers.len() + 1 };
        let text = std::str::from_utf8(line).map_err(|_| bad())?;
        let (name, value) = text.split_once(':').ok_or_else(bad)?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b)) {
            return Err(bad());
        }
        if name.eq_ignore_ascii_case("status") {
            let code = value.split(' ').next().unwrap_or("");
            let n = code
                .parse::<u16>()
                .ok()
                .filter(|n| code.len() == 3 && (200..=599).contains(n))
                .ok_or_else(|| CgiError::BadStatus(value.to_string()))?;
            status = Some(n);
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    let status =
        status.unwrap_or_else(
            || {
                if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("location")) {
                    302
                } else {
                    200
                }
            },
        );
    Ok(CgiResponse { status, headers, body: stdout[at..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_block_then_the_body() {
        let r = parse_response(b"Content-Type: text/plain\r\nX-A: 1\r\n\r\nhello\n\nworld").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.headers, vec![("Content-Type".into(), "text/plain".into()), ("X-A".into(), "1".into())]);
        assert_eq!(r.body, b"hello\n\nworld");
    }

    #[test]
    fn status_sets_the_code_and_is_not_a_header() {
        let r = parse_response(b"Status: 404 Not Found\nContent-Type: text/plain\n\nnope").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.headers.len(), 1);
    }

    #[test]
    fn location_alone_redirects() {
        let r = parse_response(b"Location: /elsewhere\n\n").unwrap();
        assert_eq!(r.status, 302);
        assert!(r.body.is_empty());
    }

    #[test]
    fn plain_output_without_a_header_block_is_refused() {
        assert_eq!(parse_response(b"hello world"), Err(CgiError::NoHeaderBlock));
        assert_eq!(parse_response(b"hello world\n\n"), Err(CgiError::BadLine { line: 1 }));
        assert_eq!(parse_response(b""), Err(CgiError::NoHeaderBlock));
    }

    #[test]
    fn bad_status_values_are_refused() {
        for s in ["abc", "99", "1000", "199 Early", "600"] {
            let out = format!("Status: {s}\n\n");
            assert!(matches!(parse_response(out.as_bytes()), Err(CgiError::BadStatus(_))), "{s}");
        }
    }

    #[test]
    fn the_header_block_is_bounded() {
        let long = format!("X: {}\n\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(parse_response(long.as_bytes()), Err(CgiError::HeadTooLarge));
        let many = "X: 1\n".repeat(MAX_HEADERS + 1) + "\n";
        assert_eq!(parse_response(many.as_bytes()), Err(CgiError::TooManyHeaders));
    }

    #[test]
    fn headers_become_http_variables() {
        let h = vec![
            ("content-type".to_string(), "text/plain".to_string()),
            ("x-forwarded-for".to_string(), "1.2.3.4".to_string()),
            ("content-length".to_string(), "5".to_string()),
        ];
        let env = request_env("POST", "/a", "b=1", "http://h/a?b=1", &h, 5);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("REQUEST_METHOD"), Some("POST"));
        assert_eq!(get("CONTENT_TYPE"), Some("text/plain"));
        assert_eq!(get("HTTP_X_FORWARDED_FOR"), Some("1.2.3.4"));
        assert_eq!(get("CONTENT_LENGTH"), Some("5"));
        assert_eq!(get("HTTP_CONTENT_LENGTH"), None);
    }
}
