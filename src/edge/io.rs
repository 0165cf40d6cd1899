//! Stream and header helpers every part of the edge uses.

use super::bindings::wasi::http::types::{Fields, Method};
use super::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

/// Largest chunk read from a body stream at once.
pub const READ_CHUNK: u64 = 64 * 1024;

http_glue!();

/// The first value of header `name`, if it is UTF-8.
pub fn header(fields: &Fields, name: &str) -> Option<String> {
    fields
        .get(name)
        .into_iter()
        .next()
        .and_then(|v| String::from_utf8(v).ok())
}

/// Writes all of `data`, waiting for the stream when it is full, then flushes.
pub fn write_all(stream: &OutputStream, data: &[u8]) -> Result<(), StreamError> {
    write_unflushed(stream, data)?;
    stream.blocking_flush()
}

/// Writes all of `data`, waiting for the stream when it is full, without
/// waiting for it to be flushed (for a request body, which the host sends as
/// soon as the connection is up; `OutgoingBody::finish` ends it).
pub fn write_unflushed(stream: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let n = stream.check_write()?;
        if n == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

/// Writes what `stream` takes right now of `data` without waiting; returns
/// how many bytes it took.
pub fn write_now(stream: &OutputStream, data: &[u8]) -> Result<usize, StreamError> {
    let n = usize::try_from(stream.check_write()?)
        .unwrap_or(usize::MAX)
        .min(data.len());
    if n > 0 {
        stream.write(&data[..n])?;
    }
    Ok(n)
}

/// Reads from `stream` into `buf` until the end (`Ok(true)`) or until `buf`
/// holds more than `limit` bytes (`Ok(false)`, the rest left unread).
pub fn read_up_to(stream: &InputStream, limit: usize, buf: &mut Vec<u8>) -> Result<bool, ()> {
    read_checking(stream, limit, buf, |_| true)
}

/// [`read_up_to`], each chunk handed to `check` as it arrives: `false` from
/// it ends the read as over the limit (`Ok(false)`).
pub fn read_checking(
    stream: &InputStream,
    limit: usize,
    buf: &mut Vec<u8>,
    mut check: impl FnMut(&[u8]) -> bool,
) -> Result<bool, ()> {
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > limit || !check(&chunk) {
                    return Ok(false);
                }
            }
            Err(StreamError::Closed) => return Ok(true),
            Err(StreamError::LastOperationFailed(_)) => return Err(()),
        }
    }
}

/// Copies `from` into `to` chunk by chunk as data arrives (nothing is buffered
/// whole). `Ok` at the end of `from`; `Err` when either side failed.
///
/// Each chunk is flushed as soon as it is written (so an SSE event leaves at
/// once) without waiting for that flush before reading the next chunk; the
/// last flush is awaited at the end.
pub fn pump(from: &InputStream, to: &OutputStream) -> Result<u64, ()> {
    let mut total = 0u64;
    loop {
        match from.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                total += chunk.len() as u64;
                write_unflushed(to, &chunk).map_err(|_| ())?;
                to.flush().map_err(|_| ())?;
            }
            Err(StreamError::Closed) => return to.blocking_flush().map(|()| total).map_err(|_| ()),
            Err(StreamError::LastOperationFailed(_)) => return Err(()),
        }
    }
}
