//! The codecs behind `CompressionStream` and `DecompressionStream`
//! (`prelude/compression.js`): gzip, deflate (zlib) and deflate-raw, on
//! flate2's pure-Rust backend.
//!
//! A codec is a native object held by its JS stream and freed with it. What
//! a call produces goes straight into the worker's heap in pieces of at most
//! [`PIECE`] bytes, and input is fed to a decoder in slices small enough that
//! no slice can expand past a few pieces: a decompression bomb fills the
//! worker's heap, which its memory limit stops, never the runner's memory
//! outside it. Long inputs check the request's CPU time between slices.

use std::cell::RefCell;
use std::io::Write;

use flate2::write::{DeflateEncoder, GzDecoder, GzEncoder, ZlibEncoder};
use flate2::{Compression, Decompress, FlushDecompress, Status};
use rquickjs::{Array, Class, Ctx, Exception, Function, Object, TypedArray};

use super::instance::Host;

/// Most bytes one piece of output holds before it is handed to JavaScript.
const PIECE: usize = 64 << 10;
/// Compressed bytes fed to a decoder at a time. Deflate expands at most
/// about 1032:1, so one slice yields at most about 1 MiB.
const SLICE: usize = 1 << 10;
/// Bytes one chunk written to a stream may have: the largest request body.
const MAX_CHUNK: usize = 64 << 20;

/// A stream format of the Compression Streams standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gzip,
    Deflate,
    DeflateRaw,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "gzip" => Some(Format::Gzip),
            "deflate" => Some(Format::Deflate),
            "deflate-raw" => Some(Format::DeflateRaw),
            _ => None,
        }
    }
}

/// Why a codec refused its input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    #[error("the compressed data is corrupt: {0}")]
    Corrupt(String),
    #[error("trailing bytes after the end of the compressed data")]
    Trailing,
    #[error("the compressed data ended before its end marker")]
    Truncated,
    #[error("the stream is already closed")]
    Closed,
}

enum Encoder {
    Gzip(GzEncoder<Vec<u8>>),
    Deflate(ZlibEncoder<Vec<u8>>),
    Raw(DeflateEncoder<Vec<u8>>),
}

enum Decoder {
    Gzip(GzDecoder<Vec<u8>>),
    /// zlib or raw deflate, and whether the end marker was seen.
    Inflate {
        state: Decompress,
        out: Vec<u8>,
        ended: bool,
    },
}

/// One stream's codec; `None` once finished (or failed), after which every
/// call is refused: flate2's writers must not be written after finishing.
enum Codec {
    Encode(Encoder),
    Decode(Decoder),
}

impl Codec {
    pub fn new(format: Format, compress: bool) -> Codec {
        let level = Compression::default();
        if compress {
            Codec::Encode(match format {
                Format::Gzip => Encoder::Gzip(GzEncoder::new(Vec::new(), level)),
                Format::Deflate => Encoder::Deflate(ZlibEncoder::new(Vec::new(), level)),
                Format::DeflateRaw => Encoder::Raw(DeflateEncoder::new(Vec::new(), level)),
            })
        } else {
            Codec::Decode(match format {
                Format::Gzip => Decoder::Gzip(GzDecoder::new(Vec::new())),
                Format::Deflate => Decoder::Inflate { state: Decompress::new(true), out: Vec::new(), ended: false },
                Format::DeflateRaw => Decoder::Inflate { state: Decompress::new(false), out: Vec::new(), ended: false },
            })
        }
    }

    /// Feeds `input`, handing each full piece of output to `emit`; `tick`
    /// runs between slices and may stop the work.
    fn push<E>(
        &mut self,
        input: &[u8],
        emit: &mut dyn FnMut(Vec<u8>) -> Result<(), E>,
        tick: &mut dyn FnMut() -> Result<(), E>,
    ) -> Result<Result<(), CodecError>, E> {
        for slice in input.chunks(SLICE) {
            tick()?;
            let step = match self {
                Codec::Encode(e) => e.write(slice),
                Codec::Decode(d) => d.write(slice),
            };
            if let Err(e) = step {
                return Ok(Err(e));
            }
            while let Some(piece) = self.take(PIECE) {
                emit(piece)?;
            }
        }
        Ok(Ok(()))
    }

    /// Ends the stream: the encoder's last bytes, or the decoder's check that
    /// the data was complete. Every output byte goes to `emit`.
    fn finish<E>(&mut self, emit: &mut dyn FnMut(Vec<u8>) -> Result<(), E>) -> Result<Result<(), CodecError>, E> {
        let done = match self {
            Codec::Encode(e) => e.finish(),
            Codec::Decode(d) => d.finish(),
        };
        while let Some(piece) = self.take(1) {
            emit(piece)?;
        }
        Ok(done)
    }

    /// At most [`PIECE`] bytes of pending output, if at least `min` are
    /// pending.
    fn take(&mut self, min: usize) -> Option<Vec<u8>> {
        let out = match self {
            Codec::Encode(Encoder::Gzip(w)) => w.get_mut(),
            Codec::Encode(Encoder::Deflate(w)) => w.get_mut(),
            Codec::Encode(Encoder::Raw(w)) => w.get_mut(),
            Codec::Decode(Decoder::Gzip(w)) => w.get_mut(),
            Codec::Decode(Decoder::Inflate { out, .. }) => out,
        };
        if out.is_empty() || out.len() < min {
            return None;
        }
        let n = out.len().min(PIECE);
        let rest = out.split_off(n);
        Some(std::mem::replace(out, rest))
    }
}

impl Encoder {
    fn write(&mut self, input: &[u8]) -> Result<(), CodecError> {
        let r = match self {
            Encoder::Gzip(w) => w.write_all(input),
            Encoder::Deflate(w) => w.write_all(input),
            Encoder::Raw(w) => w.write_all(input),
        };
        r.map_err(|e| CodecError::Corrupt(e.to_string()))
    }

    fn finish(&mut self) -> Result<(), CodecError> {
        let r = match self {
            Encoder::Gzip(w) => w.try_finish(),
            Encoder::Deflate(w) => w.try_finish(),
            Encoder::Raw(w) => w.try_finish(),
        };
        r.map_err(|e| CodecError::Corrupt(e.to_string()))
    }
}

impl Decoder {
    fn write(&mut self, mut input: &[u8]) -> Result<(), CodecError> {
        match self {
            Decoder::Gzip(w) => {
                while !input.is_empty() {
                    match w.write(input) {
                        // The member ended; what is left is not part of it.
                        Ok(0) => return Err(CodecError::Trailing),
                        Ok(n) => input = &input[n..],
                        Err(e) => return Err(CodecError::Corrupt(e.to_string())),
                    }
                }
                Ok(())
            }
            Decoder::Inflate { state, out, ended } => {
                while !input.is_empty() {
                    if *ended {
                        return Err(CodecError::Trailing);
                    }
                    out.reserve(PIECE);
                    let before = state.total_in();
                    let status = state
                        .decompress_vec(input, out, FlushDecompress::None)
                        .map_err(|e| CodecError::Corrupt(e.to_string()))?;
                    let used = (state.total_in() - before) as usize;
                    input = &input[used..];
                    match status {
                        Status::StreamEnd => *ended = true,
                        // No room was the only reason to stop: go round with more.
                        Status::Ok | Status::BufError => {}
                    }
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self) -> Result<(), CodecError> {
        match self {
            // Checks the trailer: a member cut short is an error.
            Decoder::Gzip(w) => w.try_finish().map_err(|_| CodecError::Truncated),
            Decoder::Inflate { state, out, ended } => {
                // Output held back for want of room comes out now.
                while !*ended {
                    out.reserve(PIECE);
                    let before = state.total_out();
                    let status = state
                        .decompress_vec(&[], out, FlushDecompress::Finish)
                        .map_err(|e| CodecError::Corrupt(e.to_string()))?;
                    if status == Status::StreamEnd {
                        *ended = true;
                    } else if state.total_out() == before {
                        return Err(CodecError::Truncated);
                    }
                }
                Ok(())
            }
        }
    }
}

/// The native object behind a JS compression or decompression stream.
pub struct CodecHandle(RefCell<Option<Codec>>);

super::opaque::opaque_handle!(CodecHandle, "CodecHandle");

/// Runs `f` on the handle's codec; a codec error closes it and is thrown as
/// a TypeError, as the standard asks.
fn with_codec<'js>(
    ctx: &Ctx<'js>,
    handle: &Class<'js, CodecHandle>,
    f: impl FnOnce(&mut Codec, &mut dyn FnMut(Vec<u8>) -> rquickjs::Result<()>) -> rquickjs::Result<Result<(), CodecError>>,
    finishing: bool,
) -> rquickjs::Result<Array<'js>> {
    let pieces = Array::new(ctx.clone())?;
    let handle = handle.try_borrow()?;
    let mut slot = handle.0.borrow_mut();
    let Some(codec) = slot.as_mut() else {
        return Err(Exception::throw_type(ctx, &CodecError::Closed.to_string()));
    };
    let mut emit = |piece: Vec<u8>| -> rquickjs::Result<()> {
        // Into the worker's heap at once, under its memory limit.
        let array = TypedArray::<u8>::new_copy(ctx.clone(), &piece)?;
        pieces.set(pieces.len(), array)
    };
    let outcome = f(codec, &mut emit);
    let failed = !matches!(outcome, Ok(Ok(())));
    if failed || finishing {
        *slot = None;
    }
    match outcome? {
        Ok(()) => Ok(pieces),
        Err(e) => Err(Exception::throw_type(ctx, &e.to_string())),
    }
}

macro_rules! set {
    ($obj:expr, $name:literal, $ctx:expr, $f:expr) => {
        $obj.set($name, Function::new($ctx.clone(), $f)?.with_name($name)?)?
    };
}

/// Adds `codecNew`, `codecPush` and `codecFinish` to the `__host` object.
pub fn install<'js>(ctx: &Ctx<'js>, o: &Object<'js>, host: &std::rc::Rc<Host>) -> rquickjs::Result<()> {
    set!(o, "codecNew", ctx, move |ctx: Ctx<'js>, format: String, compress: bool| {
        let Some(format) = Format::parse(&format) else {
            return Err(Exception::throw_type(&ctx, &format!("unsupported compression format {format:?}")));
        };
        Class::instance(ctx, CodecHandle(RefCell::new(Some(Codec::new(format, compress)))))
    });

    let h = host.clone();
    set!(o, "codecPush", ctx, move |ctx: Ctx<'js>,
                                    handle: Class<'js, CodecHandle>,
                                    chunk: TypedArray<'js, u8>|
          -> rquickjs::Result<Array<'js>> {
        let input = super::host::bytes_within(&chunk, "compression stream chunk", MAX_CHUNK)
            .map_err(|e| Exception::throw_type(&ctx, &e.to_string()))?;
        let mut tick = || super::subtle::check_cpu(&ctx, &h);
        with_codec(&ctx, &handle, |codec, emit| codec.push(&input, emit, &mut tick), false)
    });

    set!(o, "codecFinish", ctx, move |ctx: Ctx<'js>, handle: Class<'js, CodecHandle>| {
        with_codec(&ctx, &handle, |codec, emit| codec.finish(emit), true)
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Codec, CodecError, Format, PIECE};

    fn run(codec: &mut Codec, input: &[u8]) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        let mut pieces = Vec::new();
        let mut emit = |p: Vec<u8>| -> Result<(), ()> {
            pieces.push(p.len());
            out.extend(p);
            Ok(())
        };
        codec.push(input, &mut emit, &mut || Ok(())).expect("no stop")?;
        codec.finish(&mut emit).expect("no stop")?;
        assert!(pieces.iter().all(|&n| n <= PIECE), "pieces over {PIECE}: {pieces:?}");
        Ok(out)
    }

    fn round_trip(format: Format, data: &[u8]) -> Vec<u8> {
        let packed = run(&mut Codec::new(format, true), data).expect("compress");
        run(&mut Codec::new(format, false), &packed).expect("decompress")
    }

    #[test]
    fn every_format_round_trips_in_pieces_no_larger_than_the_piece_size() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ (i / 7) as u8).collect();
        for format in [Format::Gzip, Format::Deflate, Format::DeflateRaw] {
            assert_eq!(round_trip(format, &data), data, "{format:?}");
            assert_eq!(round_trip(format, b""), b"", "{format:?} empty");
        }
    }

    #[test]
    fn known_streams_from_zlib_decode() {
        // Python's `gzip.compress(b"hello", mtime=0)` and `zlib.compress(b"hello")`.
        let gzip = hex::decode("1f8b0800000000000203cb48cdc9c9070086a6103605000000").expect("hex");
        let zlib = hex::decode("789ccb48cdc9c90700062c0215").expect("hex");
        assert_eq!(run(&mut Codec::new(Format::Gzip, false), &gzip).expect("gzip"), b"hello");
        assert_eq!(run(&mut Codec::new(Format::Deflate, false), &zlib).expect("zlib"), b"hello");
        assert_eq!(run(&mut Codec::new(Format::DeflateRaw, false), &zlib[2..zlib.len() - 4]).expect("raw"), b"hello");
    }

    #[test]
    fn truncated_corrupt_and_trailing_input_are_errors() {
        for format in [Format::Gzip, Format::Deflate, Format::DeflateRaw] {
            let packed = run(&mut Codec::new(format, true), b"hello hello hello").expect("compress");
            let cut = &packed[..packed.len() - 3];
            assert!(run(&mut Codec::new(format, false), cut).is_err(), "{format:?} truncated");
            let mut trailing = packed.clone();
            trailing.extend_from_slice(b"xx");
            assert_eq!(run(&mut Codec::new(format, false), &trailing), Err(CodecError::Trailing), "{format:?}");
        }
        let garbage = [0xffu8; 64];
        for format in [Format::Gzip, Format::Deflate, Format::DeflateRaw] {
            assert!(matches!(run(&mut Codec::new(format, false), &garbage), Err(CodecError::Corrupt(_))), "{format:?}");
        }
    }

    #[test]
    fn a_bomb_comes_out_in_pieces_and_can_be_stopped_between_slices() {
        let zeros = vec![0u8; 8 << 20];
        let bomb = run(&mut Codec::new(Format::Gzip, true), &zeros).expect("compress");
        assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
        let mut codec = Codec::new(Format::Gzip, false);
        let mut emitted = 0usize;
        let mut ticks = 0;
        let stopped = codec.push(
            &bomb,
            &mut |p: Vec<u8>| {
                emitted += p.len();
                Ok(())
            },
            &mut || {
                ticks += 1;
                if ticks > 2 {
                    Err("stop")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(stopped, Err("stop"));
        assert!(emitted < 8 << 20, "stopped part way, after {emitted} bytes");
    }
}
