//! The EIF metadata section (JSON), written reproducibly.

use serde::{Deserialize, Serialize};

/// Build information, in the AWS builder's field order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    #[serde(rename = "BuildTime")]
    pub build_time: String,
    #[serde(rename = "BuildTool")]
    pub build_tool: String,
    #[serde(rename = "BuildToolVersion")]
    pub build_tool_version: String,
    #[serde(rename = "OperatingSystem")]
    pub operating_system: String,
    #[serde(rename = "KernelVersion")]
    pub kernel_version: String,
}

/// The metadata section, in the AWS builder's field order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(rename = "ImageName")]
    pub image_name: String,
    #[serde(rename = "ImageVersion")]
    pub image_version: String,
    #[serde(rename = "BuildMetadata")]
    pub build: BuildMetadata,
    #[serde(rename = "DockerInfo")]
    pub docker_info: serde_json::Value,
    #[serde(rename = "CustomMetadata")]
    pub custom: serde_json::Value,
}

/// Name of this tool in `BuildTool`.
pub const BUILD_TOOL: &str = "sworn-eif";

/// `SOURCE_DATE_EPOCH` was not a valid timestamp.
#[derive(Debug, thiserror::Error)]
#[error("SOURCE_DATE_EPOCH={value:?} is not a Unix timestamp between 0 and 4294967295")]
pub struct BadSourceDateEpoch {
    pub value: String,
}

/// Reads `SOURCE_DATE_EPOCH` (default 0). The value must fit in cpio's
/// 32-bit mtime field.
pub fn source_date_epoch() -> Result<u32, BadSourceDateEpoch> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(0),
        Ok(v) => v.trim().parse::<u32>().map_err(|_| BadSourceDateEpoch { value: v }),
    }
}

/// RFC 3339 rendering of a Unix timestamp (UTC).
pub fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

impl Metadata {
    /// Metadata whose every field depends only on the arguments.
    pub fn new(image_name: &str, image_version: &str, epoch: u32, kernel: &[u8]) -> Self {
        Metadata {
            image_name: image_name.to_owned(),
            image_version: image_version.to_owned(),
            build: BuildMetadata {
                build_time: rfc3339(i64::from(epoch)),
                build_tool: BUILD_TOOL.to_owned(),
                build_tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                operating_system: "linux".to_owned(),
                kernel_version: bzimage_version(kernel).unwrap_or_else(|| "unknown".to_owned()),
            },
            docker_info: serde_json::Value::Null,
            custom: serde_json::Value::Null,
        }
    }

    /// Compact JSON with a fixed key order, as the AWS builder writes it.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings and nulls cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Kernel release from an x86 bzImage's setup header (`kernel_version`
/// field), e.g. `6.12.57`; `None` for other kernel formats.
pub fn bzimage_version(kernel: &[u8]) -> Option<String> {
    if kernel.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let ptr = u16::from_le_bytes([*kernel.get(0x20E)?, *kernel.get(0x20F)?]) as usize;
    let start = ptr.checked_add(0x200)?;
    let tail = kernel.get(start..)?;
    let s = &tail[..tail.len().min(256)];
    let end = s.iter().position(|&b| b == 0 || b == b' ')?;
    let v = std::str::from_utf8(&s[..end]).ok()?;
    (!v.is_empty()).then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_compact_and_ordered() {
        let m = Metadata::new("img", "1.0", 0, b"");
        let s = String::from_utf8(m.to_json()).unwrap();
        assert!(s.starts_with(
            r#"{"ImageName":"img","ImageVersion":"1.0","BuildMetadata":{"BuildTime":"1970-01-01T00:00:00Z","BuildTool":"sworn-eif","#
        ), "{s}");
        assert!(s.ends_with(r#""KernelVersion":"unknown"},"DockerInfo":null,"CustomMetadata":null}"#), "{s}");
    }

    #[test]
    fn reads_bzimage_version() {
        let mut k = vec![0u8; 0x1000];
        k[0x202..0x206].copy_from_slice(b"HdrS");
        k[0x20E..0x210].copy_from_slice(&0x300u16.to_le_bytes());
        k[0x500..0x500 + 19].copy_from_slice(b"6.12.57 (x@y) #1 SM");
        assert_eq!(bzimage_version(&k).as_deref(), Some("6.12.57"));
        k[0x20E..0x210].copy_from_slice(&0xffffu16.to_le_bytes());
        assert_eq!(bzimage_version(&k), None);
        assert_eq!(bzimage_version(b"short"), None);
    }
}
