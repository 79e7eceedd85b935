//! Descriptor passing (`SCM_RIGHTS`): the bytes behind a message that
//! carries a descriptor.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use eddy::net::UnixStream;
use eddy_tests::run_bounded;

use crate::LIMIT;

/// Sends `data` on `socket` with the descriptor `fd` attached
/// (`SCM_RIGHTS`), as fd-passing protocols (Wayland, D-Bus) do.
fn send_with_descriptor(socket: &std::os::unix::net::UnixStream, data: &[u8], fd: RawFd) {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // `u64`s, so the buffer is aligned for a `cmsghdr`; 64 bytes hold one
    // header and one descriptor (`CMSG_SPACE(4)` is 24 on Linux).
    let mut control = [0u64; 8];
    // SAFETY: all-zero bytes are a valid `msghdr` (null pointers, zero
    // lengths).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: `CMSG_SPACE` only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<RawFd>() as u32) } as _;
    // SAFETY: `msg_control` points at `control`, large and aligned enough
    // for the one header `CMSG_FIRSTHDR` returns and its data.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<RawFd>(), fd);
    }
    // SAFETY: every pointer in `msg` is to a live local for the whole call.
    let sent = unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, 0) };
    assert_eq!(
        sent,
        data.len() as isize,
        "sendmsg: {}",
        io::Error::last_os_error()
    );
}

#[test]
fn bytes_queued_behind_a_message_carrying_a_descriptor_are_read_without_more_data() {
    run_bounded(LIMIT, || async {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("pair");
        let passed = std::fs::File::open("/dev/null").expect("open /dev/null");
        // Both messages are queued before eddy reads: the kernel ends the
        // first read after "fd:", and nothing new arrives afterwards.
        send_with_descriptor(&theirs, b"fd:", passed.as_raw_fd());
        (&theirs).write_all(b"data").expect("write");
        let mut stream = UnixStream::from_std(ours).expect("from_std");
        // A hang detector: the peer stays open and silent, so a read that
        // waits for another event would wait forever.
        let mut got = [0u8; 7];
        eddy::time::timeout(Duration::from_secs(10), stream.read_exact(&mut got))
            .await
            .expect("the bytes behind the descriptor were never read")
            .expect("read");
        assert_eq!(&got, b"fd:data");
        drop(theirs);
    });
}
