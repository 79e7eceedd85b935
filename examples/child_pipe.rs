//! A child process's output, read through `eddy::io::unix::AsyncFd` as it
//! comes, while another task keeps ticking: reading the pipe never blocks
//! the runtime's thread.
//!
//! ```sh
//! cargo run --example child_pipe
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

use eddy::io::unix::AsyncFd;

fn main() -> io::Result<()> {
    let mut child = Command::new("sh")
        .args(["-c", "for i in 1 2 3; do echo \"line $i\"; sleep 0.2; done"])
        .stdout(Stdio::piped())
        .spawn()?;
    // The read end of the pipe, as a `File` (whose `&File` reads).
    let stdout = File::from(OwnedFd::from(child.stdout.take().expect("piped")));
    // AsyncFd wants a non-blocking descriptor and does not set the flag
    // itself. Only this process reads this end, so it is ours to set.
    set_nonblocking(&stdout)?;

    eddy::run(async move {
        let ticker = eddy::spawn(async {
            loop {
                eddy::time::sleep(Duration::from_millis(150)).await;
                println!("(the runtime is free: tick)");
            }
        });
        let stdout = AsyncFd::for_reading(stdout)?;
        let mut buf = [0u8; 1024];
        loop {
            // Runs the read when the pipe is readable; on `WouldBlock` it
            // waits for the next event instead of returning.
            let n = stdout.read_with(|mut pipe| pipe.read(&mut buf)).await?;
            if n == 0 {
                break; // The child closed its stdout.
            }
            for line in String::from_utf8_lossy(&buf[..n]).lines() {
                println!("child: {line}");
            }
        }
        ticker.abort();
        io::Result::Ok(())
    })?;
    println!("child exited: {}", child.wait()?);
    Ok(())
}

/// Sets `O_NONBLOCK` on `file`'s open file.
fn set_nonblocking(file: &impl AsFd) -> io::Result<()> {
    let fd = file.as_fd().as_raw_fd();
    // SAFETY: `F_GETFL` only reads the open file's status flags; `fd` is
    // borrowed from `file` for the call.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; `F_SETFL` only writes those flags.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
