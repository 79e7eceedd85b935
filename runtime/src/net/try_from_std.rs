//! [`impl_try_from_std!`]: `TryFrom<std's socket>` for every socket type.

/// Implements `TryFrom<$std>` for a socket type through its `from_std`.
///
/// tokio's socket types and smol's `Async<T>` both convert from std's
/// sockets this way (`TcpStream::try_from(std_stream)`), so code written
/// for either, or generic over `TryFrom`, takes eddy's sockets unchanged.
/// The conversion is `from_std`, with its checks and its errors: it fails
/// outside a runtime, and for a socket of the wrong kind or state. A macro
/// because each is a foreign trait implemented on a public type, one line
/// per type.
macro_rules! impl_try_from_std {
    ($socket:ty, $std:ty) => {
        impl TryFrom<$std> for $socket {
            type Error = std::io::Error;

            /// Wraps `socket` as `from_std` does (non-blocking, registered
            /// with the runtime running on this thread).
            fn try_from(socket: $std) -> std::io::Result<Self> {
                <$socket>::from_std(socket)
            }
        }
    };
}
pub(crate) use impl_try_from_std;
