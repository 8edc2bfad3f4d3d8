//! A zstd decoder that is written to, over libzstd's streaming API. Unlike the `zstd` crate's
//! own writer, it hands each block's bytes on before it reads the next block's header: libzstd
//! reports nothing of a call that fails, so a corrupt header read in the same call as the
//! block before it would lose that block, which a streaming client did see.

use std::io::{self, Write};

use zstd::zstd_safe::{DCtx, DParameter, InBuffer, OutBuffer, ResetDirective};

/// Bytes of a block header, which libzstd's input hint counts in for the next block.
const BLOCK_HEADER: usize = 3;
/// Bytes asked for at the start of a frame: its magic number and its header's first byte.
const FRAME_START: usize = 5;
/// The output buffer: the most a block decodes to.
const OUTPUT: usize = 128 << 10;

/// A zstd stream being decoded into `W`: frames one after the other, skippable ones skipped.
pub(super) struct ZstdWriter<W> {
    dctx: DCtx<'static>,
    output: Vec<u8>,
    inner: W,
    /// The most input the next call takes: up to the end of the unit libzstd reads next.
    next: usize,
    /// A frame has begun and not ended.
    in_frame: bool,
}

impl<W: Write> ZstdWriter<W> {
    /// A decoder refusing frames whose window is over 2^`window_log_max` bytes; `Err` gives
    /// `inner` back when libzstd could not make one.
    pub(super) fn new(inner: W, window_log_max: u32) -> Result<Self, W> {
        let Some(mut dctx) = DCtx::try_create() else {
            return Err(inner);
        };
        if dctx
            .set_parameter(DParameter::WindowLogMax(window_log_max))
            .is_err()
        {
            return Err(inner);
        }
        Ok(ZstdWriter {
            dctx,
            output: Vec::with_capacity(OUTPUT),
            inner,
            next: FRAME_START,
            in_frame: false,
        })
    }

    /// The writer decoded bytes went to.
    pub(super) fn into_inner(self) -> W {
        self.inner
    }

    pub(super) fn get_ref(&self) -> &W {
        &self.inner
    }

    pub(super) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Ends the stream: an error when it stopped inside a frame.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        if self.in_frame {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "incomplete zstd frame",
            ));
        }
        Ok(())
    }

    /// One libzstd call; what it decoded goes to `inner`. Returns libzstd's hint (0: the
    /// frame ended) and whether the output buffer was filled (more may be waiting).
    fn run(&mut self, input: &mut InBuffer<'_>) -> io::Result<(usize, bool)> {
        self.output.clear();
        let mut output = OutBuffer::around(&mut self.output);
        let result = self.dctx.decompress_stream(&mut output, input);
        let full = output.pos() >= output.capacity();
        self.inner.write_all(&self.output)?;
        let hint =
            result.map_err(|code| io::Error::other(zstd::zstd_safe::get_error_name(code)))?;
        Ok((hint, full))
    }
}

impl<W: Write> Write for ZstdWriter<W> {
    /// Decodes at most up to the end of the next header, block or checksum of `buf`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.in_frame {
            self.dctx
                .reset(ResetDirective::SessionOnly)
                .map_err(|code| io::Error::other(zstd::zstd_safe::get_error_name(code)))?;
            self.in_frame = true;
        }
        let take = buf.len().min(self.next.max(1));
        let mut input = InBuffer::around(buf.get(..take).unwrap_or(buf));
        loop {
            let before = input.pos();
            let (hint, full) = self.run(&mut input)?;
            if hint == 0 {
                self.in_frame = false;
                self.next = FRAME_START;
                break;
            }
            // The hint counts in the next block's header: leave it for the next call.
            self.next = if hint > BLOCK_HEADER {
                hint - BLOCK_HEADER
            } else {
                hint
            };
            if !full && (input.pos() == take || input.pos() == before) {
                break;
            }
        }
        Ok(input.pos())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
