//! The EIF container (version 4): header, section headers, CRC.
//!
//! [`Eif::parse`] validates a whole image held in memory and never trusts a
//! size it has not checked against the buffer; [`EifWriter`] lays sections out
//! the way the AWS builder does (contiguous, in the order given).

use std::io::{self, Write};

/// `.eif`
pub const MAGIC: [u8; 4] = *b".eif";
/// The only version this crate reads and writes.
pub const VERSION: u16 = 4;
/// Size of the file header.
pub const HEADER_SIZE: usize = 548;
/// Size of a section header.
pub const SECTION_HEADER_SIZE: usize = 12;
/// Slots in the header's offset and size tables.
pub const MAX_SECTIONS: usize = 32;
/// Offset of the CRC field; the CRC covers the header bytes before it.
pub const CRC_OFFSET: usize = 544;
/// Header flag bit for aarch64 images.
pub const FLAG_ARCH_AARCH64: u16 = 1;
/// Enclave memory the AWS builder records (1 GiB).
pub const DEFAULT_MEM: u64 = 1 << 30;
/// Enclave vCPUs the AWS builder records.
pub const DEFAULT_CPUS: u64 = 2;

/// Kind of a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[repr(u16)]
pub enum SectionType {
    Kernel = 1,
    Cmdline = 2,
    Ramdisk = 3,
    Signature = 4,
    Metadata = 5,
}

impl SectionType {
    /// Decodes a section type; 0 ("invalid") and unknown values are `None`.
    pub fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => Self::Kernel,
            2 => Self::Cmdline,
            3 => Self::Ramdisk,
            4 => Self::Signature,
            5 => Self::Metadata,
            _ => return None,
        })
    }

    /// Lower-case name, as printed by `eif describe`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kernel => "kernel",
            Self::Cmdline => "cmdline",
            Self::Ramdisk => "ramdisk",
            Self::Signature => "signature",
            Self::Metadata => "metadata",
        }
    }
}

/// Why an image was rejected. Every variant names the offending field.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum EifError {
    #[error("truncated header: file is {len} bytes, the EIF header alone is {HEADER_SIZE}")]
    TruncatedHeader { len: usize },
    #[error("bad magic: expected 2e656966 (\".eif\"), found {}", hex::encode(.found))]
    BadMagic { found: [u8; 4] },
    #[error("unsupported version {version} (only version {VERSION} is supported)")]
    UnsupportedVersion { version: u16 },
    #[error("num_sections is {num_sections}, must be 2..={MAX_SECTIONS}")]
    SectionCount { num_sections: u16 },
    #[error("section_offsets[{index}] is {offset}, expected {expected}: sections must be contiguous and in order")]
    SectionOffset { index: usize, offset: u64, expected: u64 },
    #[error("section {index}: header at {offset} plus size {size} ends past the end of the file ({file_len} bytes)")]
    SectionPastEnd { index: usize, offset: u64, size: u64, file_len: usize },
    #[error("section {index}: section_sizes[{index}] is {in_table} but the section header says {in_section}")]
    SectionSizeMismatch { index: usize, in_table: u64, in_section: u64 },
    #[error("section {index}: unknown section type {value}")]
    SectionType { index: usize, value: u16 },
    #[error("section_offsets/section_sizes[{index}] is non-zero although num_sections is {num_sections}")]
    UnusedSlot { index: usize, num_sections: u16 },
    #[error("{extra} trailing bytes after the last section (at {end})")]
    TrailingBytes { end: u64, extra: u64 },
    #[error("missing {0} section")]
    MissingSection(&'static str),
    #[error("section {index}: more than one {kind} section")]
    DuplicateSection { index: usize, kind: &'static str },
    #[error("section {index}: ramdisk before the kernel section")]
    RamdiskBeforeKernel { index: usize },
    #[error("too many sections: {count} (at most {MAX_SECTIONS})")]
    TooManySections { count: usize },
}

/// The fixed-size file header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u16,
    pub flags: u16,
    pub default_mem: u64,
    pub default_cpus: u64,
    pub reserved: u16,
    pub num_sections: u16,
    pub section_offsets: [u64; MAX_SECTIONS],
    pub section_sizes: [u64; MAX_SECTIONS],
    pub unused: u32,
    pub crc32: u32,
}

fn be_u16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}
fn be_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

impl Header {
    /// Decodes the header from the first [`HEADER_SIZE`] bytes of `bytes`,
    /// checking magic and version only.
    pub fn parse(bytes: &[u8]) -> Result<Self, EifError> {
        let b = bytes.get(..HEADER_SIZE).ok_or(EifError::TruncatedHeader { len: bytes.len() })?;
        let found = [b[0], b[1], b[2], b[3]];
        if found != MAGIC {
            return Err(EifError::BadMagic { found });
        }
        let version = be_u16(b, 4);
        if version != VERSION {
            return Err(EifError::UnsupportedVersion { version });
        }
        let mut section_offsets = [0u64; MAX_SECTIONS];
        let mut section_sizes = [0u64; MAX_SECTIONS];
        for i in 0..MAX_SECTIONS {
            section_offsets[i] = be_u64(b, 0x1C + 8 * i);
            section_sizes[i] = be_u64(b, 0x11C + 8 * i);
        }
        Ok(Header {
            version,
            flags: be_u16(b, 6),
            default_mem: be_u64(b, 8),
            default_cpus: be_u64(b, 16),
            reserved: be_u16(b, 24),
            num_sections: be_u16(b, 26),
            section_offsets,
            section_sizes,
            unused: be_u32(b, 0x21C),
            crc32: be_u32(b, 0x220),
        })
    }

    /// Encodes the header.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&self.version.to_be_bytes());
        b[6..8].copy_from_slice(&self.flags.to_be_bytes());
        b[8..16].copy_from_slice(&self.default_mem.to_be_bytes());
        b[16..24].copy_from_slice(&self.default_cpus.to_be_bytes());
        b[24..26].copy_from_slice(&self.reserved.to_be_bytes());
        b[26..28].copy_from_slice(&self.num_sections.to_be_bytes());
        for i in 0..MAX_SECTIONS {
            b[0x1C + 8 * i..0x1C + 8 * i + 8].copy_from_slice(&self.section_offsets[i].to_be_bytes());
            b[0x11C + 8 * i..0x11C + 8 * i + 8].copy_from_slice(&self.section_sizes[i].to_be_bytes());
        }
        b[0x21C..0x220].copy_from_slice(&self.unused.to_be_bytes());
        b[0x220..0x224].copy_from_slice(&self.crc32.to_be_bytes());
        b
    }
}

/// Encodes a section header.
pub fn section_header(kind: SectionType, size: u64) -> [u8; SECTION_HEADER_SIZE] {
    let mut b = [0u8; SECTION_HEADER_SIZE];
    b[0..2].copy_from_slice(&(kind as u16).to_be_bytes());
    b[4..12].copy_from_slice(&size.to_be_bytes());
    b
}

/// One section of a parsed image.
#[derive(Clone, Debug)]
pub struct Section<'a> {
    pub kind: SectionType,
    /// Flags of the section header (0 in every known image).
    pub flags: u16,
    /// Offset of the section *header* in the file.
    pub offset: u64,
    pub data: &'a [u8],
}

/// A validated image borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Eif<'a> {
    pub header: Header,
    pub sections: Vec<Section<'a>>,
    /// CRC computed over the file, to compare with `header.crc32`.
    pub computed_crc32: u32,
}

impl<'a> Eif<'a> {
    /// Parses and validates a complete image.
    ///
    /// Checks: magic, version, section count, that sections are contiguous
    /// from the end of the header to the end of the file, that table and
    /// section-header sizes agree, section types, and that kernel, cmdline
    /// and metadata appear once, signature at most once, ramdisks at least
    /// once and after the kernel. A CRC mismatch is *not* an error here:
    /// see [`Eif::crc_ok`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EifError> {
        let header = Header::parse(bytes)?;
        let n = header.num_sections;
        if !(2..=MAX_SECTIONS as u16).contains(&n) {
            return Err(EifError::SectionCount { num_sections: n });
        }
        let n = usize::from(n);
        for index in n..MAX_SECTIONS {
            if header.section_offsets[index] != 0 || header.section_sizes[index] != 0 {
                return Err(EifError::UnusedSlot { index, num_sections: header.num_sections });
            }
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&bytes[..CRC_OFFSET]);
        let file_len = bytes.len();
        let mut sections = Vec::with_capacity(n);
        let mut expected = HEADER_SIZE as u64;
        for index in 0..n {
            let offset = header.section_offsets[index];
            let size = header.section_sizes[index];
            if offset != expected {
                return Err(EifError::SectionOffset { index, offset, expected });
            }
            let past_end = EifError::SectionPastEnd { index, offset, size, file_len };
            let end = offset
                .checked_add(SECTION_HEADER_SIZE as u64)
                .and_then(|v| v.checked_add(size))
                .filter(|&end| end <= file_len as u64)
                .ok_or(past_end)?;
            // Both fit in the buffer, hence in usize.
            let (start, end_us) = (offset as usize, end as usize);
            let sh = &bytes[start..start + SECTION_HEADER_SIZE];
            let value = be_u16(sh, 0);
            let kind = SectionType::from_u16(value).ok_or(EifError::SectionType { index, value })?;
            let in_section = be_u64(sh, 4);
            if in_section != size {
                return Err(EifError::SectionSizeMismatch { index, in_table: size, in_section });
            }
            crc.update(&bytes[start..end_us]);
            sections.push(Section {
                kind,
                flags: be_u16(sh, 2),
                offset,
                data: &bytes[start + SECTION_HEADER_SIZE..end_us],
            });
            expected = end;
        }
        if expected != file_len as u64 {
            return Err(EifError::TrailingBytes { end: expected, extra: file_len as u64 - expected });
        }
        check_section_set(&sections)?;
        Ok(Eif { header, sections, computed_crc32: crc.finalize() })
    }

    /// Whether the stored CRC matches the file.
    pub fn crc_ok(&self) -> bool {
        self.header.crc32 == self.computed_crc32
    }

    fn single(&self, kind: SectionType) -> Option<&'a [u8]> {
        self.sections.iter().find(|s| s.kind == kind).map(|s| s.data)
    }

    /// Kernel image (present: checked by `parse`).
    pub fn kernel(&self) -> &'a [u8] {
        self.single(SectionType::Kernel).unwrap_or_default()
    }

    /// Kernel command line bytes.
    pub fn cmdline(&self) -> &'a [u8] {
        self.single(SectionType::Cmdline).unwrap_or_default()
    }

    /// Metadata JSON bytes.
    pub fn metadata(&self) -> &'a [u8] {
        self.single(SectionType::Metadata).unwrap_or_default()
    }

    /// Signature section bytes, for signed images.
    pub fn signature(&self) -> Option<&'a [u8]> {
        self.single(SectionType::Signature)
    }

    /// Ramdisks in file order.
    pub fn ramdisks(&self) -> Vec<&'a [u8]> {
        self.sections.iter().filter(|s| s.kind == SectionType::Ramdisk).map(|s| s.data).collect()
    }
}

fn check_section_set(sections: &[Section<'_>]) -> Result<(), EifError> {
    let (mut kernel, mut cmdline, mut metadata, mut signature, mut ramdisks) = (false, false, false, false, 0);
    for (index, s) in sections.iter().enumerate() {
        let seen = match s.kind {
            SectionType::Kernel => &mut kernel,
            SectionType::Cmdline => &mut cmdline,
            SectionType::Metadata => &mut metadata,
            SectionType::Signature => &mut signature,
            SectionType::Ramdisk => {
                if !kernel {
                    return Err(EifError::RamdiskBeforeKernel { index });
                }
                ramdisks += 1;
                continue;
            }
        };
        if *seen {
            return Err(EifError::DuplicateSection { index, kind: s.kind.name() });
        }
        *seen = true;
    }
    for (present, name) in [(kernel, "kernel"), (cmdline, "cmdline"), (metadata, "metadata"), (ramdisks > 0, "ramdisk")]
    {
        if !present {
            return Err(EifError::MissingSection(name));
        }
    }
    Ok(())
}

/// Lays sections out contiguously after the header and computes the CRC.
pub struct EifWriter<'a> {
    header: Header,
    sections: Vec<(SectionType, &'a [u8])>,
}

impl<'a> EifWriter<'a> {
    /// Prepares an image with the given sections, in file order.
    pub fn new(flags: u16, sections: Vec<(SectionType, &'a [u8])>) -> Result<Self, EifError> {
        if sections.len() > MAX_SECTIONS {
            return Err(EifError::TooManySections { count: sections.len() });
        }
        let mut header = Header {
            version: VERSION,
            flags,
            default_mem: DEFAULT_MEM,
            default_cpus: DEFAULT_CPUS,
            reserved: 0,
            num_sections: sections.len() as u16,
            section_offsets: [0; MAX_SECTIONS],
            section_sizes: [0; MAX_SECTIONS],
            unused: 0,
            crc32: 0,
        };
        let mut offset = HEADER_SIZE as u64;
        for (i, (_, data)) in sections.iter().enumerate() {
            header.section_offsets[i] = offset;
            header.section_sizes[i] = data.len() as u64;
            offset += (SECTION_HEADER_SIZE + data.len()) as u64;
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header.to_bytes()[..CRC_OFFSET]);
        for (kind, data) in &sections {
            crc.update(&section_header(*kind, data.len() as u64));
            crc.update(data);
        }
        header.crc32 = crc.finalize();
        Ok(EifWriter { header, sections })
    }

    /// The header that will be written, CRC included.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Total file size.
    pub fn len(&self) -> u64 {
        self.sections.iter().map(|(_, d)| (SECTION_HEADER_SIZE + d.len()) as u64).sum::<u64>() + HEADER_SIZE as u64
    }

    /// Whether the image has no sections (never true for a valid image).
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// Writes the image. `out` should be buffered only if it is slow with
    /// large writes; section data is written in one call each.
    pub fn write_to<W: Write>(&self, out: &mut W) -> io::Result<()> {
        out.write_all(&self.header.to_bytes())?;
        for (kind, data) in &self.sections {
            out.write_all(&section_header(*kind, data.len() as u64))?;
            out.write_all(data)?;
        }
        Ok(())
    }

    /// Calls `f` with the bytes of the image in file order, in the pieces
    /// `write_to` writes (for hashing without writing).
    pub fn for_each_chunk(&self, mut f: impl FnMut(&[u8])) {
        f(&self.header.to_bytes());
        for (kind, data) in &self.sections {
            f(&section_header(*kind, data.len() as u64));
            f(data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let w = EifWriter::new(
            0,
            vec![
                (SectionType::Kernel, b"KERNEL".as_slice()),
                (SectionType::Cmdline, b"console=ttyS0"),
                (SectionType::Metadata, b"{}"),
                (SectionType::Ramdisk, b"RD0"),
            ],
        )
        .unwrap();
        let mut v = Vec::new();
        w.write_to(&mut v).unwrap();
        assert_eq!(v.len() as u64, w.len());
        v
    }

    #[test]
    fn crc_is_zlib_crc32() {
        let mut h = crc32fast::Hasher::new();
        h.update(b"123456789");
        assert_eq!(h.finalize(), 0xcbf4_3926);
    }

    #[test]
    fn header_layout_and_crc_known_answer() {
        let v = sample();
        assert_eq!(&v[..4], b".eif");
        assert_eq!(&v[4..6], &[0, 4]);
        assert_eq!(be_u64(&v, 8), 1 << 30);
        assert_eq!(be_u64(&v, 16), 2);
        assert_eq!(be_u16(&v, 26), 4);
        assert_eq!(be_u64(&v, 0x1C), 548);
        assert_eq!(be_u64(&v, 0x11C), 6);
        // Section header of the kernel: type 1, flags 0, size 6.
        assert_eq!(&v[548..560], &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6]);
        // CRC computed independently with Python: zlib.crc32(data[:544] + data[548:]).
        let mut rest = v[..544].to_vec();
        rest.extend_from_slice(&v[548..]);
        let mut h = crc32fast::Hasher::new();
        h.update(&rest);
        assert_eq!(be_u32(&v, 544), h.finalize());
        assert_eq!(be_u32(&v, 544), 0xb3f4_c8ef_u32, "crc of the sample image changed");
    }

    #[test]
    fn round_trip() {
        let v = sample();
        let e = Eif::parse(&v).unwrap();
        assert!(e.crc_ok());
        assert_eq!(e.kernel(), b"KERNEL");
        assert_eq!(e.cmdline(), b"console=ttyS0");
        assert_eq!(e.ramdisks(), vec![b"RD0".as_slice()]);
        assert_eq!(e.signature(), None);
    }

    fn set_u64(v: &mut [u8], at: usize, x: u64) {
        v[at..at + 8].copy_from_slice(&x.to_be_bytes());
    }

    #[test]
    fn malformed_images_name_the_field() {
        let good = sample();
        let err = |v: &[u8]| Eif::parse(v).unwrap_err();
        assert_eq!(err(&good[..100]), EifError::TruncatedHeader { len: 100 });
        let mut v = good.clone();
        v[0] = b'x';
        assert!(matches!(err(&v), EifError::BadMagic { .. }));
        let mut v = good.clone();
        v[5] = 3;
        assert_eq!(err(&v), EifError::UnsupportedVersion { version: 3 });
        for n in [0u16, 1, 33, 0xffff] {
            let mut v = good.clone();
            v[26..28].copy_from_slice(&n.to_be_bytes());
            assert_eq!(err(&v), EifError::SectionCount { num_sections: n });
        }
        let mut v = good.clone();
        v[26..28].copy_from_slice(&5u16.to_be_bytes());
        assert!(matches!(err(&v), EifError::SectionOffset { index: 4, .. }), "{}", err(&v));
        let mut v = good.clone();
        set_u64(&mut v, 0x11C, u64::MAX - 4);
        assert!(matches!(err(&v), EifError::SectionPastEnd { index: 0, .. }));
        let mut v = good.clone();
        set_u64(&mut v, 0x1C + 8, 1 << 40);
        assert!(matches!(err(&v), EifError::SectionOffset { index: 1, .. }));
        let mut v = good.clone();
        set_u64(&mut v, 548 + 4, 7);
        assert!(matches!(err(&v), EifError::SectionSizeMismatch { index: 0, in_table: 6, in_section: 7 }));
        let mut v = good.clone();
        v[549] = 9;
        assert_eq!(err(&v), EifError::SectionType { index: 0, value: 9 });
        let mut v = good.clone();
        v.push(0);
        assert!(matches!(err(&v), EifError::TrailingBytes { extra: 1, .. }));
        let truncated = &good[..good.len() - 1];
        assert!(matches!(err(truncated), EifError::SectionPastEnd { index: 3, .. }));
        let mut v = good.clone();
        set_u64(&mut v, 0x1C + 8 * 31, 1);
        assert!(matches!(err(&v), EifError::UnusedSlot { index: 31, .. }));
        // Kernel section relabelled as a ramdisk: ramdisk before kernel.
        let mut v = good.clone();
        v[549] = 3;
        assert_eq!(err(&v), EifError::RamdiskBeforeKernel { index: 0 });
        // Last ramdisk relabelled as metadata: duplicate metadata.
        let mut v = good.clone();
        let off = be_u64(&good, 0x1C + 8 * 3) as usize;
        v[off + 1] = 5;
        assert!(matches!(err(&v), EifError::DuplicateSection { index: 3, kind: "metadata" }));
    }

    #[test]
    fn bad_crc_is_reported_not_rejected() {
        let mut v = sample();
        let last = v.len() - 1;
        v[last] ^= 1;
        let e = Eif::parse(&v).unwrap();
        assert!(!e.crc_ok());
    }
}
