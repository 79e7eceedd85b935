//! `#[eddy::main]` and `#[eddy::test]`: write `async fn main` and
//! `async fn` tests, and have each run on a fresh eddy runtime.
//!
//! Use them through the `eddy` crate with its `macros` feature (off by
//! default, so a plain build of eddy compiles no proc-macro crate):
//!
//! ```toml
//! [dependencies]
//! eddy = { version = "0.1", features = ["macros"] }
//! ```
//!
//! ```
//! #[eddy::main]
//! async fn main() {
//!     let task = eddy::spawn(async { 6 * 7 });
//!     assert_eq!(task.await.unwrap(), 42);
//! }
//! ```
//!
//! # How data flows
//!
//! The compiler hands each macro the tokens of the function it decorates.
//! `AsyncFn::parse` splits them into the part before `fn` (attributes,
//! visibility, qualifiers), the signature after it (name, generics,
//! parameters, return type, `where` clause) and the body, and checks the
//! `async` keyword is there. `AsyncFn::into_blocking` glues them back
//! together as an ordinary `fn` whose body hands the old body, now an
//! inner `async fn` with the declared return type (and `unsafe` if the
//! function is, so the body stays as unsafe a context as it was), to
//! `eddy::Runtime::new().expect(..).block_on` (a runtime that cannot be
//! created is a panic, not an error returned through `main`'s type).
//! Anything the macro rejects comes back as a `compile_error!` pointing at
//! the offending token, followed by a stand-in for the function so the one
//! clear error is not followed by a cascade of others.
//!
//! # Implementation
//!
//! The crate has no dependencies: no `syn`, no `quote`. The rewrite only
//! needs to find four landmarks at the top level of the token stream (the
//! `async` keyword, the `fn` keyword, the `->` after the parameters and the
//! final `{ ... }` group); everything else is passed through verbatim,
//! spans and all, so error messages about the user's code still point at
//! the user's code. (A body that a `macro_rules!` macro passes on as a
//! `$body:block` fragment arrives in an invisible group, looked through to
//! find its braces.) Parsing the whole function into a syntax tree would
//! cost every user of the `macros` feature the build time of syn for
//! nothing.
//!
//! The return type is read once, to declare it on that inner
//! `async fn __eddy_body() -> RET BODY`, so a body of the wrong type is
//! reported at the value, an early `return` coerces to it and `?` in the
//! body knows the error type to convert into from the start;
//! `async fn main() -> Result<(), E>` works as a synchronous `main` does.
//! (An associated function that names `Self` runs its body in an
//! `async move` block instead, since an inner function cannot name the
//! `impl`'s `Self`; there, as with `#[tokio::main]`, the body's first
//! `return` decides the block's type.) Generated paths are absolute (`::eddy::Runtime`,
//! `::core::prelude::v1::test`) so a local item named `eddy` or `test`
//! cannot capture them; a crate that renames the dependency
//! (`my_eddy = { package = "eddy", .. }`) says so with
//! `#[my_eddy::main(crate = "my_eddy")]`.
//!
//! | file            | role                                                     |
//! |-----------------|----------------------------------------------------------|
//! | `lib.rs`        | the two attribute entry points, stand-ins after an error |
//! | `async_fn.rs`   | `AsyncFn`: split an `async fn`, rebuild it blocking      |
//! | `crate_path.rs` | the arguments: `crate = "path"`, hints for tokio's       |
//! | `error.rs`      | `Error`: a message and a span, emitted as `compile_error!` |
//! | `flavor.rs`     | `Flavor`: which attribute, and what that changes         |

use proc_macro::{Ident, TokenStream, TokenTree};

mod async_fn;
mod crate_path;
mod error;
mod flavor;

use async_fn::AsyncFn;
use crate_path::crate_path;
use flavor::Flavor;

/// Runs an `async fn main` on a new eddy runtime.
///
/// The function becomes a plain `fn` with the same name, attributes and
/// return type whose body is
/// `eddy::Runtime::new().expect(..).block_on(BODY as an async fn)`. Returning
/// a `Result` works as it does for a synchronous `main`, and so does a
/// server's `-> !`:
///
/// ```no_run
/// #[eddy::main]
/// async fn main() -> ! {
///     loop {
///         eddy::time::sleep(std::time::Duration::from_secs(60)).await;
///     }
/// }
/// ```
///
/// ```no_run
/// use std::error::Error;
///
/// #[eddy::main]
/// async fn main() -> Result<(), Box<dyn Error>> {
///     let listener = eddy::net::TcpListener::bind("127.0.0.1:7878").await?;
///     loop {
///         let (mut stream, _peer) = listener.accept().await?;
///         eddy::spawn(async move {
///             let _ = stream.write_all(b"hello from eddy\n").await;
///         });
///     }
/// }
/// ```
///
/// It goes on other functions with no parameters too: a helper, or an
/// associated function, that synchronous code calls runs its body on a
/// runtime of its own at each call.
///
/// ```
/// struct Config {
///     port: u16,
/// }
///
/// impl Config {
///     #[eddy::main]
///     async fn load() -> Self {
///         eddy::task::yield_now().await;
///         Config { port: 8080 }
///     }
/// }
///
/// assert_eq!(Config::load().port, 8080);
/// ```
///
/// # Panics
///
/// The generated `main` panics if the runtime cannot be created (the OS
/// refused an epoll instance: out of file descriptors), and when it is
/// called inside a running runtime (`block_on` does not nest).
///
/// # Compile errors
///
/// The function must be `async`, not `const`, and take no parameters and
/// no generic parameters, like any `main`. The only argument is `crate = "path"`, for
/// a crate that renamed its eddy dependency: `#[my_eddy::main(crate =
/// "my_eddy")]`. The path is identifiers separated by `::`, with an
/// optional leading `::` (`"::my_eddy"`, `"crate::rt"`); an error about it,
/// such as a misspelt crate name, points at the string. tokio's
/// `flavor`, `worker_threads`, `start_paused` and `unhandled_panic` are
/// errors that say why eddy needs none: it always runs on one thread, has
/// no paused clock, and hands a task's panic to its `JoinHandle`.
///
/// ```compile_fail
/// #[eddy::main]
/// fn main() {} // error: the `async` keyword is missing
/// ```
///
/// ```compile_fail
/// #[eddy::main]
/// async fn main(port: u16) {} // error: `main` takes no parameters
/// ```
///
/// ```compile_fail
/// #[eddy::main]
/// async fn main<T>() {} // error: `main` takes no generic parameters
/// ```
///
/// ```compile_fail
/// #[eddy::main(threads = 4)] // error: only `crate = "path"` is accepted
/// async fn main() {}
/// ```
///
/// One trailing comma may follow the argument, as at the end of any Rust
/// list; any other comma is an error:
///
/// ```
/// #[eddy::main(crate = "::eddy",)]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[eddy::main(crate = "::eddy",,)] // error: only one trailing comma
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[eddy::main(, crate = "::eddy")] // error: a comma before the argument
/// async fn main() {}
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Flavor::Main, args, item)
}

/// Runs an `async fn` test on its own new eddy runtime.
///
/// The function becomes a `#[test]` function that builds a runtime, runs the
/// body on it with `block_on` and drops the runtime, so every test starts
/// from a clean slate. Other attributes (`#[should_panic]`, `#[ignore]`)
/// and a `Result` return type work as they do on `#[test]`.
///
/// ```
/// #[eddy::test]
/// async fn sleeps_then_answers() -> std::io::Result<()> {
///     eddy::time::sleep(std::time::Duration::from_millis(1)).await;
///     let answer = eddy::spawn(async { 42 }).await.map_err(std::io::Error::other)?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
///
/// # Panics
///
/// The test panics (fails) if the runtime cannot be created.
///
/// # Compile errors
///
/// The function must be `async`, not `const`, and take no parameters and
/// no generic parameters (the test harness calls it with none); the only argument is
/// `crate = "path"` (see [`macro@main`]).
///
/// ```compile_fail
/// #[eddy::test]
/// fn not_async() {} // error: the `async` keyword is missing
/// ```
///
/// `#[eddy::test]` writes the `#[test]` itself; a second one, left from a
/// synchronous test or copied from a tokio test, would register the test
/// twice and run it twice, so it is an error (as with `#[tokio::test]`):
///
/// ```compile_fail
/// #[eddy::test]
/// #[test] // error: a second test attribute
/// async fn runs_once() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Flavor::Test, args, item)
}

/// Both attributes: validate, rewrite, or report what is wrong.
fn expand(flavor: Flavor, args: TokenStream, item: TokenStream) -> TokenStream {
    let rewritten = crate_path(flavor, args).and_then(|eddy| {
        AsyncFn::parse(flavor, item.clone()).map(|function| function.into_blocking(flavor, eddy))
    });
    match rewritten {
        Ok(tokens) => tokens,
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(stand_in(flavor, item));
            tokens
        }
    }
}

/// What follows a rejection's `compile_error!`, so that the one clear error
/// is not buried under others. A test's item is kept as written, less its
/// own `#[test]`s (rejected as a second one, it would add "async
/// functions cannot be used for tests") and a `const` before `fn` (which
/// `async` forbids): a name defined, nothing else to
/// complain about. Nothing calls it, yet no
/// dead-code warning follows: rustc skips its dead-code pass once an error
/// has been reported (seen with 1.85, 1.95 and nightly). Putting `#[test]`
/// back on it would add "async functions cannot be used for tests", and
/// `#[allow(dead_code)]` would silence nothing. For `main` an `async fn main`
/// (rejected by the compiler) or no `main` at all ("`main` function not
/// found") would each add an error, so an empty `fn NAME() {}` stands in.
fn stand_in(flavor: Flavor, item: TokenStream) -> TokenStream {
    if flavor == Flavor::Test {
        let mut tokens: Vec<TokenTree> = item.into_iter().collect();
        while let Some(index) = tokens
            .windows(2)
            .position(|pair| async_fn::test_attribute(pair).is_some())
        {
            tokens.drain(index..index + 2);
        }
        // A rejected `const`, kept on an `async fn`, would add "functions
        // cannot be both `const` and `async`".
        let is_keyword = |token: &TokenTree, keyword: &str| matches!(token, TokenTree::Ident(ident) if ident.to_string() == keyword);
        if let Some(fn_index) = tokens.iter().position(|token| is_keyword(token, "fn")) {
            let mut index = 0;
            tokens.retain(|token| {
                index += 1;
                index > fn_index || !is_keyword(token, "const")
            });
        }
        return tokens.into_iter().collect();
    }
    let mut tokens = item.clone().into_iter();
    let name = tokens
        .by_ref()
        .find(|token| matches!(token, TokenTree::Ident(ident) if ident.to_string() == "fn"))
        .and_then(|_| match tokens.next() {
            Some(TokenTree::Ident(name)) => Some(name),
            _ => None,
        });
    let Some(name) = name else {
        return item;
    };
    let mut stand_in: TokenStream = [TokenTree::Ident(Ident::new("fn", name.span())), name.into()]
        .into_iter()
        .collect();
    stand_in.extend(
        ["()".parse::<TokenStream>(), "{}".parse()]
            .into_iter()
            .flatten(),
    );
    stand_in
}
