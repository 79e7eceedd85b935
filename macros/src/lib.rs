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
//! | file          | role                                                       |
//! |---------------|------------------------------------------------------------|
//! | `lib.rs`      | the two attribute entry points, argument checks, stand-ins |
//! | `async_fn.rs` | `AsyncFn`: split an `async fn`, rebuild it blocking        |
//! | `error.rs`    | `Error`: a message and a span, emitted as `compile_error!` |
//! | `flavor.rs`   | `Flavor`: which attribute, and what that changes           |

use proc_macro::{Ident, Punct, Spacing, Span, TokenStream, TokenTree};

mod async_fn;
mod error;
mod flavor;

use async_fn::AsyncFn;
use error::Error;
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

/// The path to the eddy crate: `::eddy`, or what `crate = "path"` names
/// (for a crate that renamed the dependency, as tokio's attributes allow).
/// Any other argument is an error, rather than silently ignored. One
/// trailing comma may follow the argument, as at the end of any Rust list.
fn crate_path(flavor: Flavor, args: TokenStream) -> Result<TokenStream, Error> {
    let mut args: Vec<TokenTree> = args.into_iter().collect();
    // A lone `,` is left in, so `(,)` and `(crate = "x",,)` stay errors.
    if args.len() > 1 && args.last().is_some_and(is_comma) {
        args.pop();
    }
    let Some(first) = args.first() else {
        return Ok(path_tokens(&["", "eddy"], Span::call_site()));
    };
    if let Some(error) = tokio_argument(flavor, &args) {
        return Err(error);
    }
    let usage = || {
        Error::new(
            first.span(),
            format!(
                "#[{}] takes no arguments but `crate = \"path\"` (the path to eddy)",
                flavor.name()
            ),
        )
    };
    let [
        TokenTree::Ident(key),
        TokenTree::Punct(eq),
        TokenTree::Literal(value),
    ] = &args[..]
    else {
        return Err(usage());
    };
    if key.to_string() != "crate" || eq.as_char() != '=' {
        return Err(usage());
    }
    let quoted = value.to_string();
    let Some(path) = string_contents(&quoted) else {
        return Err(Error::new(
            value.span(),
            "`crate` must be a path in quotes, such as \"::my_eddy\"",
        ));
    };
    let segments: Vec<&str> = path.split("::").collect();
    check_path(&segments).map_err(|why| {
        Error::new(
            value.span(),
            format!(
                "`crate = {quoted}` is not a path: {why}; write identifiers separated by `::`, \
                 such as \"::my_eddy\" or \"my_crate::eddy\""
            ),
        )
    })?;
    // Every token at the string's span: an error about the path (a crate
    // name misspelt, E0433) points at the string, not the attribute.
    Ok(path_tokens(&segments, value.span()))
}

/// What a string literal's source text holds between its quotes, whether
/// it is written `"..."`, `r"..."` or `r#"..."#`; `None` for any other
/// literal (a number, a byte string, a C string). Escapes are left as they
/// are: a path has no use for them, and `check_path` refuses the `\`.
fn string_contents(literal: &str) -> Option<&str> {
    let hashed = match literal.strip_prefix('r') {
        Some(raw) => {
            let hashes = raw.len() - raw.trim_start_matches('#').len();
            raw.get(hashes..raw.len().checked_sub(hashes)?)?
        }
        None => literal,
    };
    hashed.strip_prefix('"')?.strip_suffix('"')
}

/// Why `segments` (a path split at `::`; a leading `::` gives an empty
/// first one) is not a path the generated code can start with, if it is
/// not. Each segment is an ASCII identifier (crate names are ASCII, and
/// `Ident::new` would panic on anything not an identifier); `crate`,
/// `self` and `super` only lead a relative path, as in Rust.
fn check_path(segments: &[&str]) -> Result<(), String> {
    const KEYWORDS: &[&str] = &[
        "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl", "in",
        "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
        "return", "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe",
        "unsized", "use", "virtual", "where", "while", "yield",
    ];
    let absolute = segments.len() > 1 && segments[0].is_empty();
    let names = if absolute { &segments[1..] } else { segments };
    let mut leading = !absolute;
    for (index, name) in names.iter().enumerate() {
        let mut chars = name.chars();
        let is_identifier = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && *name != "_";
        if !is_identifier {
            return Err(if name.is_empty() {
                "an empty name before or after `::`".to_owned()
            } else {
                format!("`{name}` is not an identifier")
            });
        }
        let path_keyword = match *name {
            "crate" | "self" => index == 0 && leading,
            "super" => leading,
            _ => {
                leading = false;
                continue;
            }
        };
        if !path_keyword {
            return Err(format!("`{name}` may only start a relative path"));
        }
        if *name == "crate" {
            leading = false;
        }
    }
    match names.iter().find(|name| KEYWORDS.contains(name)) {
        Some(keyword) => Err(format!("`{keyword}` is a keyword")),
        None => Ok(()),
    }
}

/// `segments` as path tokens, each at `span`; an empty first segment is a
/// leading `::`.
fn path_tokens(segments: &[&str], span: Span) -> TokenStream {
    let mut tokens = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        if index > 0 {
            for spacing in [Spacing::Joint, Spacing::Alone] {
                let mut colon = Punct::new(':', spacing);
                colon.set_span(span);
                tokens.push(TokenTree::Punct(colon));
            }
        }
        if !segment.is_empty() {
            tokens.push(TokenTree::Ident(Ident::new(segment, span)));
        }
    }
    tokens.into_iter().collect()
}

/// An error with a hint for the first of tokio's arguments among `args`,
/// if there is one: users moving tests from `#[tokio::test]` bring them
/// along, and "takes no arguments but `crate`" left them wondering how to
/// get a single thread or a paused clock. Pointed at the argument's name,
/// which need not be the first argument.
fn tokio_argument(flavor: Flavor, args: &[TokenTree]) -> Option<Error> {
    let key = args
        .split(is_comma)
        .filter_map(|argument| match argument.first() {
            Some(TokenTree::Ident(key)) => Some(key),
            _ => None,
        })
        .find(|key| {
            let key = key.to_string();
            matches!(
                key.as_str(),
                "flavor" | "worker_threads" | "start_paused" | "unhandled_panic"
            )
        })?;
    let name = key.to_string();
    let why = match name.as_str() {
        "start_paused" => "eddy has no paused clock, its timers follow the real one",
        "unhandled_panic" => {
            "eddy always catches a task's panic and hands it to the task's `JoinHandle` \
             (tokio's default, \"ignore\")"
        }
        _ => "eddy always runs every task on the one thread that calls `block_on`",
    };
    Some(Error::new(
        key.span(),
        format!(
            "#[{}] takes no `{name}`: that is an argument of tokio's attributes; {why}. \
             Its only argument is `crate = \"path\"`",
            flavor.name()
        ),
    ))
}

/// Whether `token` is a `,`, the separator of an attribute's arguments.
fn is_comma(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == ',')
}
