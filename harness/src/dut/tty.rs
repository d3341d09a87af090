//! A serial port's file descriptor as a tokio byte stream: non-blocking reads and writes
//! woken by epoll (tokio's `AsyncFd`), so deadlines are exact and nothing polls in a loop.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An open, configured tty (baud, raw mode and exclusive lock stay as serialport set them).
pub struct TtyStream {
    fd: AsyncFd<File>,
}

impl TtyStream {
    /// Takes over `port`'s descriptor; must be called inside a tokio runtime.
    pub fn new(port: serialport::TTYPort) -> io::Result<Self> {
        // SAFETY: `into_raw_fd` hands over sole ownership of an open descriptor (serialport
        // forgets the port without closing it), so wrapping it in an OwnedFd is sound.
        let owned = unsafe { OwnedFd::from_raw_fd(port.into_raw_fd()) };
        let file = File::from(owned);
        rustix::io::ioctl_fionbio(&file, true)?;
        // SAFETY: the File owns the descriptor and lives inside the AsyncFd, so it stays open
        // and the same for the AsyncFd's whole life.
        let fd = unsafe { AsyncFd::register(file) }.map_err(io::Error::from)?;
        Ok(Self { fd })
    }
}

/// EIO is how Linux reports a tty whose other end is gone (pty master closed, USB adapter
/// unplugged): an end of stream, not an I/O fault.
fn is_hangup(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error())
}

impl AsyncRead for TtyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|file| file.get_ref().read(unfilled)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) if is_hangup(&e) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for TtyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|file| file.get_ref().write(buf)) {
                Ok(Err(e)) if is_hangup(&e) => {
                    return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                }
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    // Written bytes are in the kernel's queue; waiting for the wire (tcdrain) would block.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
