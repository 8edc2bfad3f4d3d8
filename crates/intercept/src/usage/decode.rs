//! Decoding of compressed bodies (`gzip`, `deflate`, `br`, `zstd`) into a body parser, with
//! bounded memory and time.

use std::io::{self, Write};

use super::body::BodyParser;
use super::zstd_stream::ZstdWriter;
use super::{BROTLI_BUFFER, DECODE_PIECE, MAX_DECODED_BODY, MAX_GZIP_HEADER, ZSTD_WINDOW_LOG_MAX};

/// A `Content-Encoding` this module decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// The one coding a `Content-Encoding` value applies: `Some(None)` for none (empty, or
    /// only `identity` entries), `None` for an unknown coding or for two stacked ones.
    pub(super) fn parse(header: &str) -> Option<Option<Coding>> {
        let mut found = None;
        for token in header.split(',').map(str::trim) {
            let coding = match token.to_ascii_lowercase().as_str() {
                "" | "identity" => continue,
                "gzip" | "x-gzip" => Coding::Gzip,
                "deflate" => Coding::Deflate,
                "br" => Coding::Brotli,
                "zstd" => Coding::Zstd,
                _ => return None,
            };
            if found.replace(coding).is_some() {
                return None;
            }
        }
        Some(found)
    }
}

/// Where a decoder writes: the body parser, behind the decoded-size cap. Refusing a write is
/// how decoding is stopped from the inside, since the decoders stop at their writer's error.
#[derive(Debug)]
struct Sink {
    body: BodyParser,
    decoded: u64,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let total = self.decoded.saturating_add(buf.len() as u64);
        if total > MAX_DECODED_BODY || !self.body.wants_more() {
            return Err(io::Error::other("no more decoded bytes wanted"));
        }
        self.decoded = total;
        self.body.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A streaming decoder writing into a [`Sink`].
enum Decoder {
    /// A `deflate` body before its first two bytes tell a zlib header from raw deflate.
    Sniffing {
        head: Vec<u8>,
        sink: Sink,
    },
    Gzip(flate2::write::MultiGzDecoder<Sink>),
    Zlib(flate2::write::ZlibDecoder<Sink>),
    Deflate(flate2::write::DeflateDecoder<Sink>),
    /// Boxed: the brotli state is ten times the size of the others.
    Brotli(Box<brotli_decompressor::DecompressorWriter<Sink>>),
    /// Frames one after the other, skippable ones skipped.
    Zstd(ZstdWriter<Sink>),
    /// A decoder that could not be made: nothing is decoded.
    Failed(Sink),
}

impl Decoder {
    fn new(coding: Coding, sink: Sink) -> Self {
        match coding {
            Coding::Gzip => Decoder::Gzip(flate2::write::MultiGzDecoder::new(sink)),
            Coding::Brotli => {
                let mut writer = brotli_decompressor::DecompressorWriter::new(sink, BROTLI_BUFFER);
                // Large-window brotli (not part of HTTP's `br`) could make the decoder
                // allocate a window of up to 1 GiB; the standard window is at most 16 MiB.
                writer.set_parameter(
                    brotli_decompressor::BrotliDecoderParameter::BROTLI_DECODER_PARAM_LARGE_WINDOW,
                    0,
                );
                Decoder::Brotli(Box::new(writer))
            }
            Coding::Deflate => Decoder::Sniffing {
                head: Vec::with_capacity(2),
                sink,
            },
            Coding::Zstd => Decoder::zstd(sink),
        }
    }

    /// A zstd decoder refusing windows over 2^[`ZSTD_WINDOW_LOG_MAX`] bytes.
    fn zstd(sink: Sink) -> Self {
        match ZstdWriter::new(sink, ZSTD_WINDOW_LOG_MAX) {
            Ok(writer) => Decoder::Zstd(writer),
            Err(sink) => Decoder::Failed(sink),
        }
    }

    /// The decoder for a `deflate` body starting with `head`: zlib when `head` is a valid
    /// zlib header (deflate method, window at most 32 KiB, check bits), raw deflate otherwise.
    fn for_deflate(head: &[u8], sink: Sink) -> Self {
        if zlib_header(head) {
            Decoder::Zlib(flate2::write::ZlibDecoder::new(sink))
        } else {
            Decoder::Deflate(flate2::write::DeflateDecoder::new(sink))
        }
    }

    fn sink(&self) -> &Sink {
        match self {
            Decoder::Sniffing { sink, .. } => sink,
            Decoder::Gzip(d) => d.get_ref(),
            Decoder::Zlib(d) => d.get_ref(),
            Decoder::Deflate(d) => d.get_ref(),
            Decoder::Brotli(d) => d.get_ref(),
            Decoder::Zstd(d) => d.get_ref(),
            Decoder::Failed(sink) => sink,
        }
    }

    fn sink_mut(&mut self) -> &mut Sink {
        match self {
            Decoder::Sniffing { sink, .. } => sink,
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zlib(d) => d.get_mut(),
            Decoder::Deflate(d) => d.get_mut(),
            Decoder::Brotli(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut(),
            Decoder::Failed(sink) => sink,
        }
    }

    /// The decoder as a writer; `None` while still sniffing, or when there is none.
    fn writer(&mut self) -> Option<&mut dyn Write> {
        match self {
            Decoder::Sniffing { .. } | Decoder::Failed(_) => None,
            Decoder::Gzip(d) => Some(d),
            Decoder::Zlib(d) => Some(d),
            Decoder::Deflate(d) => Some(d),
            Decoder::Brotli(d) => Some(&mut **d),
            Decoder::Zstd(d) => Some(d),
        }
    }

    /// Whether a gzip header is still being read.
    fn in_gzip_header(&self) -> bool {
        matches!(self, Decoder::Gzip(d) if d.header().is_none())
    }

    /// Decodes what the decoder still holds at the end of the body.
    fn finish(&mut self) -> io::Result<()> {
        match self {
            Decoder::Sniffing { .. } | Decoder::Failed(_) => Ok(()),
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zlib(d) => d.try_finish(),
            Decoder::Deflate(d) => d.try_finish(),
            Decoder::Brotli(d) => d.close(),
            // An error when the last frame is incomplete.
            Decoder::Zstd(d) => d.finish(),
        }
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Decoder::Sniffing { .. } => "Sniffing",
            Decoder::Gzip(_) => "Gzip",
            Decoder::Zlib(_) => "Zlib",
            Decoder::Deflate(_) => "Deflate",
            Decoder::Brotli(_) => "Brotli",
            Decoder::Zstd(_) => "Zstd",
            Decoder::Failed(_) => "Failed",
        };
        f.debug_tuple(name).field(self.sink()).finish()
    }
}

/// A compressed body on its way to the parser.
#[derive(Debug)]
pub(super) struct Decoding {
    decoder: Decoder,
    /// Compressed bytes fed while a gzip header was unfinished.
    gzip_header_bytes: u64,
    /// Decoding failed or hit a limit: the rest of the body is ignored.
    stopped: bool,
}

impl Decoding {
    /// Decoded bytes so far, whether decoding stopped, and the bytes of gzip header fed.
    #[cfg(test)]
    pub(super) fn progress(&self) -> (u64, bool, u64) {
        (
            self.decoder.sink().decoded,
            self.stopped,
            self.gzip_header_bytes,
        )
    }

    pub(super) fn new(coding: Coding, body: BodyParser) -> Self {
        Decoding {
            decoder: Decoder::new(coding, Sink { body, decoded: 0 }),
            gzip_header_bytes: 0,
            stopped: false,
        }
    }

    pub(super) fn body(&self) -> &BodyParser {
        &self.decoder.sink().body
    }

    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let chunk = self.sniff(chunk);
        for piece in chunk.chunks(DECODE_PIECE) {
            if self.stopped {
                return;
            }
            self.stopped = !self.write_piece(piece);
        }
        // The decoders keep their last output until the next write: hand it to the parser
        // now, so that `saw_terminal_event` sees everything fed so far.
        if !self.stopped
            && let Some(writer) = self.decoder.writer()
        {
            self.stopped = writer.flush().is_err();
        }
    }

    /// While sniffing a `deflate` body, takes its first two bytes and then starts the right
    /// decoder on them; returns what remains of `chunk` to decode.
    pub(super) fn sniff<'c>(&mut self, chunk: &'c [u8]) -> &'c [u8] {
        let Decoder::Sniffing { head, .. } = &mut self.decoder else {
            return chunk;
        };
        let take = chunk.len().min(2 - head.len().min(2));
        let (taken, rest) = chunk.split_at_checked(take).unwrap_or((chunk, &[]));
        head.extend_from_slice(taken);
        if head.len() < 2 {
            return &[];
        }
        let placeholder = Decoder::Sniffing {
            head: Vec::new(),
            sink: Sink {
                body: BodyParser::spent(),
                decoded: 0,
            },
        };
        if let Decoder::Sniffing { head, sink } = std::mem::replace(&mut self.decoder, placeholder)
        {
            self.decoder = Decoder::for_deflate(&head, sink);
            self.stopped = !self.write_piece(&head);
        }
        rest
    }

    /// Decodes one piece; false when decoding must stop.
    pub(super) fn write_piece(&mut self, mut piece: &[u8]) -> bool {
        let len = piece.len() as u64;
        let in_header = self.decoder.in_gzip_header();
        let Some(writer) = self.decoder.writer() else {
            return false;
        };
        while !piece.is_empty() {
            match writer.write(piece) {
                // Ok(0): the stream has ended and the rest is not part of it.
                Ok(0) | Err(_) => return false,
                Ok(n) => piece = piece.get(n..).unwrap_or_default(),
            }
        }
        if in_header && self.decoder.in_gzip_header() {
            self.gzip_header_bytes += len;
            return self.gzip_header_bytes <= MAX_GZIP_HEADER;
        }
        true
    }

    /// The parser, with everything the decoder still held fed to it.
    pub(super) fn into_body(mut self: Box<Self>) -> BodyParser {
        if !self.stopped {
            // A truncated or corrupt end is reported here; what was decoded still counts.
            let _ = self.decoder.finish();
        }
        // The decoder writes into its sink once more when dropped: the spent parser that
        // replaces the real one refuses it.
        std::mem::replace(&mut self.decoder.sink_mut().body, BodyParser::spent())
    }
}

/// A whole request body as [`decode_whole`] found it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Whole {
    /// Not compressed (no `Content-Encoding`, or only `identity`).
    Identity,
    /// Decoded, at most the cap.
    Decoded(Vec<u8>),
    /// A coding this module does not decode (or two stacked), a corrupt or truncated body,
    /// or one that decodes to more than the cap.
    Unreadable,
}

/// Where [`decode_whole`] writes: a buffer refusing to grow past its cap.
struct Capped {
    out: Vec<u8>,
    cap: usize,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.len().saturating_add(buf.len()) > self.cap {
            return Err(io::Error::other("decoded body over the cap"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Decodes a whole body sent with this `Content-Encoding` into at most `cap` bytes, with the
/// same decoders and limits as a response body (one coding; a zstd window of at most 8 MiB;
/// no large-window brotli). A body that does not decode completely is [`Whole::Unreadable`].
pub(crate) fn decode_whole(content_encoding: &str, body: &[u8], cap: usize) -> Whole {
    let coding = match Coding::parse(content_encoding) {
        Some(Some(coding)) => coding,
        Some(None) => return Whole::Identity,
        None => return Whole::Unreadable,
    };
    let sink = Capped {
        out: Vec::new(),
        cap,
    };
    let decoded = match coding {
        Coding::Gzip => finish_flate(flate2::write::MultiGzDecoder::new(sink), body),
        Coding::Deflate if zlib_header(body) => {
            finish_flate(flate2::write::ZlibDecoder::new(sink), body)
        }
        Coding::Deflate => finish_flate(flate2::write::DeflateDecoder::new(sink), body),
        Coding::Brotli => {
            let mut writer = brotli_decompressor::DecompressorWriter::new(sink, BROTLI_BUFFER);
            writer.set_parameter(
                brotli_decompressor::BrotliDecoderParameter::BROTLI_DECODER_PARAM_LARGE_WINDOW,
                0,
            );
            writer
                .write_all(body)
                .and_then(|()| writer.close())
                .ok()
                .and_then(|()| writer.into_inner().ok())
        }
        Coding::Zstd => ZstdWriter::new(sink, ZSTD_WINDOW_LOG_MAX)
            .ok()
            .and_then(|mut writer| {
                writer.write_all(body).ok()?;
                writer.finish().ok()?;
                Some(writer.into_inner())
            }),
    };
    decoded.map_or(Whole::Unreadable, |sink| Whole::Decoded(sink.out))
}

/// The flate2 writers share these methods but no trait.
trait FlateWriter: Write {
    fn finish_into(self) -> io::Result<Capped>;
}

impl FlateWriter for flate2::write::MultiGzDecoder<Capped> {
    fn finish_into(self) -> io::Result<Capped> {
        self.finish()
    }
}

impl FlateWriter for flate2::write::ZlibDecoder<Capped> {
    fn finish_into(self) -> io::Result<Capped> {
        self.finish()
    }
}

impl FlateWriter for flate2::write::DeflateDecoder<Capped> {
    fn finish_into(self) -> io::Result<Capped> {
        self.finish()
    }
}

/// Writes `body` through a flate2 decoder and finishes it; `None` on any error.
fn finish_flate(mut writer: impl FlateWriter, body: &[u8]) -> Option<Capped> {
    writer.write_all(body).ok()?;
    writer.finish_into().ok()
}

/// Whether `head` starts with a valid zlib header (deflate method, window at most 32 KiB,
/// check bits).
fn zlib_header(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}
