//! `#[eddy::test]` on real async tests: each one passing proves the macro
//! built a runtime, ran the body on it, and kept the test's attributes and
//! return type.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};

#[eddy::test]
async fn body_runs_on_a_runtime_that_drives_tasks_and_timers() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    let task = eddy::spawn(async move {
        eddy::time::sleep(Duration::from_millis(1)).await;
        flag.set(true);
        7
    });
    assert_eq!(task.await.unwrap(), 7);
    assert!(ran.get());
}

#[eddy::test]
async fn result_return_type_lets_the_body_use_question_mark() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = eddy::spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        stream.write_all(b"pong").await?;
        io::Result::Ok(())
    });
    let mut client = TcpStream::connect(addr).await?;
    let mut reply = [0u8; 4];
    client.read_exact(&mut reply).await?;
    assert_eq!(&reply, b"pong");
    server.await.map_err(io::Error::other)??;
    Ok(())
}

#[eddy::test]
#[should_panic(expected = "raised inside the async body")]
async fn should_panic_attribute_is_kept() {
    eddy::task::yield_now().await;
    panic!("raised inside the async body");
}

#[eddy::test]
async fn each_test_gets_a_fresh_runtime() {
    // Tests run in parallel on the harness's threads; a runtime shared
    // between them would show the other tests' spawns here.
    let handle = eddy::Handle::current();
    assert_eq!(handle.metrics().tasks_spawned, 0);
    eddy::spawn(async {}).await.unwrap();
    assert_eq!(handle.metrics().tasks_spawned, 1);
}

/// A borrowed local survives across awaits: the body is one `async move`
/// block owning everything, not a future borrowing the test's stack frame.
#[eddy::test]
async fn locals_live_across_awaits() {
    let words = String::from("ab");
    let first = &words[..1];
    eddy::task::yield_now().await;
    assert_eq!(first, "a");
}

#[eddy::test(crate = "::eddy")]
async fn the_crate_argument_names_the_path_to_eddy() {
    // A crate that renamed its eddy dependency passes that name; here the
    // usual one, spelled out, proves the argument is taken and used.
    assert_eq!(eddy::spawn(async { 2 + 2 }).await.unwrap(), 4);
}

/// As in a synchronous function, an early `return` is checked against the
/// declared return type, so a `Box<io::Error>` coerces to the
/// `Box<dyn Error>` it declares. Was a compile error: the body ran in an
/// `async` block whose output type the first `return` decided.
#[eddy::test]
async fn an_early_return_coerces_to_the_declared_return_type()
-> Result<(), Box<dyn std::error::Error>> {
    if !eddy::spawn(async { true }).await? {
        return Err(Box::new(io::Error::other("the task said false")));
    }
    Ok(())
}

/// `impl Trait` inside the return type, which `#[test]` accepts. Was a
/// compile error: the type was copied into a `let` annotation, where
/// `impl Trait` is not allowed.
#[eddy::test]
async fn an_impl_trait_inside_the_return_type_is_accepted() -> Result<(), impl std::fmt::Debug> {
    eddy::task::yield_now().await;
    Ok::<(), u8>(())
}

/// One trailing comma after the arguments, as Rust allows at the end of
/// any list and tokio's attributes accept. Was a compile error: the
/// argument list had to be exactly `crate = "path"`.
// rustfmt drops a trailing comma from an attribute's arguments, which
// would leave this test proving nothing.
#[rustfmt::skip]
#[eddy::test(crate = "::eddy",)]
async fn a_trailing_comma_after_the_crate_argument_is_accepted() {
    assert_eq!(eddy::spawn(async { 3 }).await.unwrap(), 3);
}

/// A module with its own `test` attribute in scope (here eddy's, as a
/// `use eddy::test;` would bring it): the `#[test]` the macro writes must
/// still be the standard one. Resolved to the name in scope, it applied
/// `#[eddy::test]` again to the rewritten, no longer `async`, function, and
/// this file did not compile.
mod with_another_test_attribute_in_scope {
    use eddy::test;

    #[eddy::test]
    async fn a_test_still_runs_as_a_standard_test() {
        eddy::task::yield_now().await;
    }

    #[test]
    async fn the_name_in_scope_is_eddys() {
        eddy::task::yield_now().await;
    }
}
