  // ----------------------------------------------------- compression streams
  // CompressionStream and DecompressionStream (Compression Streams standard),
  // TransformStreams over a native codec (engine/compression.rs), as on
  // workerd, where both extend TransformStream. Output comes in pieces of
  // at most 64 KiB, each in the worker's heap as soon as it is made.
  const COMPRESSION_FORMATS = ["gzip", "deflate", "deflate-raw"];
  function codecStream(what, format, compress) {
    const name = String(format);
    if (!COMPRESSION_FORMATS.includes(name)) {
      throw new TypeError(`${what}: the format must be one of ${COMPRESSION_FORMATS.join(", ")}; got ${JSON.stringify(name)}`);
    }
    const codec = host.codecNew(name, compress);
    const pass = (pieces, c) => { for (const p of pieces) c.enqueue(p); };
    return {
      // Strings are taken as UTF-8, as workerd takes them.
      transform(chunk, c) {
        const bytes = typeof chunk === "string" ? encodeUtf8(chunk) : plainBytes(asBytes(chunk, what));
        pass(host.codecPush(codec, bytes), c);
      },
      flush(c) { pass(host.codecFinish(codec), c); },
    };
  }
  class CompressionStream extends TransformStream {
    constructor(format) { super(codecStream("CompressionStream", format, true)); }
  }
  tag(CompressionStream, "CompressionStream");
  class DecompressionStream extends TransformStream {
    constructor(format) { super(codecStream("DecompressionStream", format, false)); }
  }
  tag(DecompressionStream, "DecompressionStream");
  define("CompressionStream", CompressionStream);
  define("DecompressionStream", DecompressionStream);

