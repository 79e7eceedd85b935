mod rt {
    pub use ::eddy::Runtime;
}

#[eddy::main(crate = r"crate::rt")]
async fn main() {
    hashed();
}

#[eddy::main(crate = r#"::eddy"#)]
async fn hashed() {}
