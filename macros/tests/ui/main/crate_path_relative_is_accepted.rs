mod rt {
    pub use ::eddy::Runtime;
}

#[eddy::main(crate = "crate::rt")]
async fn main() {
    inner::run();
    in_self();
}

mod inner {
    #[eddy::main(crate = "super::rt")]
    pub(crate) async fn run() {}
}

#[eddy::main(crate = "self::rt")]
async fn in_self() {}
