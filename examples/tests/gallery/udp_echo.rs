//! `udp_echo`: each datagram comes back whole and on its own.

use crate::{Example, PATIENCE};

#[test]
fn udp_echo_sends_each_datagram_back_whole_and_separately() {
    let (_server, addr) = Example::serve("udp_echo", &[]);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    socket.connect(addr).unwrap();
    // A large datagram (60 000 bytes, under UDP's 65 507-byte limit) and
    // an empty one: boundaries are kept, nothing is merged or cut.
    let big: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    for datagram in [&b"hello"[..], &big, b"", b"bye"] {
        socket.send(datagram).unwrap();
        let mut buf = vec![0; 65_536];
        let len = socket.recv(&mut buf).expect("an echo within the patience");
        assert_eq!(&buf[..len], datagram);
    }
}
