//! Parsing of worker-creation requests: Escrin's `POST /` and `POST /workers`
//! accept JSON, urlencoded or multipart bodies with the same fields.

use base64ct::Encoding;
use bytes::Bytes;
use serde_json::Value;
use sworn_wasi::WASM_MAGIC;

use crate::cron::Schedule;
use crate::registry::{WorkerKind, WorkerSpec};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body could not be parsed as JSON: {0}")]
    Json(String),
    #[error("the request body could not be parsed as form data: {0}")]
    Form(String),
    #[error("unsupported content type {0:?} (use application/json, application/x-www-form-urlencoded or multipart/form-data)")]
    ContentType(String),
    #[error("field {0:?} is required")]
    Missing(&'static str),
    #[error("field {field:?}: {problem}")]
    Invalid { field: &'static str, problem: String },
}

impl ApiError {
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ApiError::Missing(f) | ApiError::Invalid { field: f, .. } => Some(f),
            _ => None,
        }
    }
}

/// Which API a create request came through: they read `type` differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `POST /workers`: `type` is `module` or `sw` (or an alias); anything
    /// else is refused.
    Rest,
    /// Escrin's create (`POST /` or any path that is not a REST route): as
    /// in Escrin's runner, a `type` other than `module` means a service
    /// worker.
    Escrin,
}

/// Turns a management request body into a worker spec.
pub async fn parse_create(content_type: Option<&str>, body: Bytes, dialect: Dialect) -> Result<WorkerSpec, ApiError> {
    let mime = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let mut fields: serde_json::Map<String, Value> = match mime.as_deref() {
        None | Some("") | Some("application/json") => match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(ApiError::Json("expected an object".into())),
            Err(e) => return Err(ApiError::Json(e.to_string())),
        },
        Some("application/x-www-form-urlencoded") => {
            url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect()
        }
        Some("multipart/form-data") => {
            let ct = content_type.unwrap_or_default();
            let boundary = multer::parse_boundary(ct).map_err(|e| ApiError::Form(e.to_string()))?;
            let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
            let mut multipart = multer::Multipart::new(stream, boundary);
            let mut m = serde_json::Map::new();
            while let Some(field) = multipart.next_field().await.map_err(|e| ApiError::Form(e.to_string()))? {
                let name = field.name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|e| ApiError::Form(format!("field {name:?}: {e}")))?.to_vec();
                let text = if name == "code" { code_text(bytes) } else { String::from_utf8(bytes).ok() }
                    .ok_or_else(|| ApiError::Form(format!("field {name:?} is not UTF-8 text")))?;
                m.insert(name, Value::String(text));
            }
            m
        }
        Some(other) => return Err(ApiError::ContentType(other.to_string())),
    };
    if dialect == Dialect::Escrin {
        match fields.get("type") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if t == "module" || t == "esm" || t == "wasi" => {}
            Some(_) => {
                fields.insert("type".into(), Value::String("sw".into()));
            }
        }
    }
    spec_from_fields(fields)
}

fn string_field(fields: &serde_json::Map<String, Value>, name: &'static str) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::Invalid { field: name, problem: "must be a string".into() }),
    }
}

/// `config` and `args` may be JSON values or strings holding JSON text.
fn json_field(fields: &serde_json::Map<String, Value>, name: &'static str) -> Result<String, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok("{}".into()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok("{}".into()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map(|v| v.to_string())
            .map_err(|e| ApiError::Invalid { field: name, problem: format!("not valid JSON: {e}") }),
        Some(v) => Ok(v.to_string()),
    }
}

pub fn spec_from_fields(fields: serde_json::Map<String, Value>) -> Result<WorkerSpec, ApiError> {
    // `script` is what older Escrin runners called `code`.
    let code = match string_field(&fields, "code")? {
        Some(c) => c,
        None => string_field(&fields, "script")?.ok_or(ApiError::Missing("code"))?,
    };
    if code.trim().is_empty() {
        return Err(ApiError::Invalid { field: "code", problem: "is empty".into() });
    }
    let kind = match string_field(&fields, "type")?.as_deref() {
        Some("module") | Some("esm") => WorkerKind::Module,
        Some("sw") | Some("classic") | Some("service-worker") => WorkerKind::ServiceWorker,
        Some("wasi") => WorkerKind::Wasi,
        Some(other) => {
            return Err(ApiError::Invalid {
                field: "type",
                problem: format!("{other:?} is not \"module\", \"sw\" or \"wasi\""),
            })
        }
        None => detect_kind(&code),
    };
    if kind == WorkerKind::Wasi {
        match base64ct::Base64::decode_vec(code.trim()) {
            Ok(bytes) if bytes.starts_with(WASM_MAGIC) => {}
            _ => {
                return Err(ApiError::Invalid {
                    field: "code",
                    problem: "a \"wasi\" worker's code is a WebAssembly module: send it in base64, or as a \
                              multipart file"
                        .into(),
                })
            }
        }
    }
    let name = string_field(&fields, "name")?.filter(|n| !n.is_empty());
    if let Some(n) = &name {
        if n.len() > 64 || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Err(ApiError::Invalid {
                field: "name",
                problem: "use at most 64 characters among A-Z a-z 0-9 - _ .".into(),
            });
        }
    }
    let schedule = match string_field(&fields, "schedule")?.filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            Some(Schedule::parse(&s).map_err(|e| ApiError::Invalid { field: "schedule", problem: e.to_string() })?)
        }
        None => None,
    };
    let args = json_field(&fields, "args")?;
    if kind == WorkerKind::Wasi {
        let argv_ok = match serde_json::from_str::<Value>(&args) {
            Ok(Value::Array(items)) => items.iter().all(Value::is_string),
            Ok(Value::Object(m)) => m.is_empty(),
            _ => false,
        };
        if !argv_ok {
            return Err(ApiError::Invalid {
                field: "args",
                problem: "a \"wasi\" worker's args are its command-line arguments: a JSON array of strings".into(),
            });
        }
    }
    Ok(WorkerSpec { name, code, kind, schedule, config: json_field(&fields, "config")?, args })
}

/// The `code` of an uploaded file: a WebAssembly module (a WASI worker may
/// be sent as it is) becomes the base64 text that JSON uploads and the
/// journal carry; anything else must be UTF-8 text (`None` if not).
pub fn code_text(bytes: Vec<u8>) -> Option<String> {
    if bytes.starts_with(WASM_MAGIC) {
        Some(base64ct::Base64::encode_string(&bytes))
    } else {
        String::from_utf8(bytes).ok()
    }
}

/// Guesses the format when `type` is absent: base64 of a WebAssembly
/// module is a WASI worker, code with a top-level `export` is a module,
/// anything else a service-worker script.
pub fn detect_kind(code: &str) -> WorkerKind {
    // Base64 of a module: its first 8 characters are its first 6 bytes.
    let head = code.trim_start().get(..8).and_then(|h| base64ct::Base64::decode_vec(h).ok());
    if head.is_some_and(|b| b.starts_with(WASM_MAGIC)) {
        return WorkerKind::Wasi;
    }
    let has_export = code.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("export ") || l.starts_with("export{") || l.starts_with("export*")
    }) || code.contains(";export{")
        || code.contains(";export ");
    if has_export {
        WorkerKind::Module
    } else {
        WorkerKind::ServiceWorker
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_body() {
        let body = br#"{"code":"export default {}","name":"a","schedule":"*/5 * * * *","config":{"k":1}}"#;
        let spec = parse_create(Some("application/json"), Bytes::from_static(body), Dialect::Rest).await.unwrap();
        assert_eq!(spec.kind, WorkerKind::Module);
        assert_eq!(spec.name.as_deref(), Some("a"));
        assert_eq!(spec.config, r#"{"k":1}"#);
        assert_eq!(spec.schedule.unwrap().source(), "*/5 * * * *");
    }

    #[tokio::test]
    async fn urlencoded_body_with_config_text() {
        let body = "code=addEventListener(1)&type=sw&config=%7B%22a%22%3A2%7D";
        let spec =
            parse_create(Some("application/x-www-form-urlencoded"), Bytes::from(body), Dialect::Rest).await.unwrap();
        assert_eq!(spec.kind, WorkerKind::ServiceWorker);
        assert_eq!(spec.config, r#"{"a":2}"#);
    }

    #[tokio::test]
    async fn multipart_body() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"code\"; filename=\"w.js\"\r\n\r\nexport default {}\r\n--XX\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nmodule\r\n--XX--\r\n";
        let spec =
            parse_create(Some("multipart/form-data; boundary=XX"), Bytes::from(body), Dialect::Rest).await.unwrap();
        assert_eq!(spec.code, "export default {}");
        assert_eq!(spec.kind, WorkerKind::Module);
    }

    #[test]
    fn format_detection() {
        assert_eq!(detect_kind("export default { fetch() {} }"), WorkerKind::Module);
        assert_eq!(detect_kind("var a = 1;\nexport {\n  a as default\n};"), WorkerKind::Module);
        assert_eq!(detect_kind("var a={};export{a as default};"), WorkerKind::Module);
        assert_eq!(detect_kind("addEventListener('fetch', e => {})"), WorkerKind::ServiceWorker);
        assert_eq!(detect_kind("const exported = 1; // export default"), WorkerKind::ServiceWorker);
        assert_eq!(detect_kind("AGFzbQEAAAA="), WorkerKind::Wasi, "base64 of \\0asm, version 1");
        assert_eq!(detect_kind("\n AGFzbQ=="), WorkerKind::Wasi, "the magic alone");
        assert_eq!(detect_kind("AGFzcw=="), WorkerKind::ServiceWorker, "\\0ass, not the magic");
    }

    #[tokio::test]
    async fn escrins_create_reads_any_type_but_module_as_a_service_worker() {
        for (t, kind) in [
            (r#""module""#, WorkerKind::Module),
            (r#""classic""#, WorkerKind::ServiceWorker),
            (r#""wasm""#, WorkerKind::ServiceWorker),
            ("7", WorkerKind::ServiceWorker),
            ("null", WorkerKind::Module),
        ] {
            let body = format!(r#"{{"code":"export default {{}}","type":{t}}}"#);
            let spec = parse_create(None, Bytes::from(body), Dialect::Escrin).await.unwrap();
            assert_eq!(spec.kind, kind, "type {t}");
        }
        // The REST API still refuses what it does not know.
        let rest = parse_create(None, Bytes::from_static(br#"{"code":"x","type":"wasm"}"#), Dialect::Rest).await;
        assert_eq!(rest.unwrap_err().field(), Some("type"));
    }

    #[tokio::test]
    async fn errors_name_the_problem() {
        let e = parse_create(None, Bytes::from_static(b"{"), Dialect::Rest).await.unwrap_err();
        assert!(matches!(e, ApiError::Json(_)));
        let e = parse_create(None, Bytes::from_static(b"{}"), Dialect::Rest).await.unwrap_err();
        assert_eq!(e.field(), Some("code"));
        let e =
            parse_create(None, Bytes::from_static(br#"{"code":"x","type":"wasm"}"#), Dialect::Rest).await.unwrap_err();
        assert_eq!(e.field(), Some("type"));
        let e = parse_create(None, Bytes::from_static(br#"{"code":"x","schedule":"bad"}"#), Dialect::Rest)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("schedule"));
        let e = parse_create(None, Bytes::from_static(br#"{"code":"x","config":"{nope"}"#), Dialect::Rest)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("config"));
        let e = parse_create(Some("text/plain"), Bytes::from_static(b"x"), Dialect::Rest).await.unwrap_err();
        assert!(matches!(e, ApiError::ContentType(_)));
    }
}
