//! [`AsyncFn`]: an `async fn` split at its landmarks, and rebuilt as a
//! plain `fn` that runs its body on a new runtime.

use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

use crate::error::Error;
use crate::flavor::Flavor;

/// An `async fn` cut into the pieces the rewrite moves around. Every token
/// is the user's own, spans included, except the `async` keyword, dropped.
#[derive(Debug)]
pub(crate) struct AsyncFn {
    /// Everything before `fn` except `async`: attributes (doc comments are
    /// `#[doc]` attributes too), visibility, `unsafe`, `extern "C"`.
    head: Vec<TokenTree>,
    /// The `fn` keyword itself, kept for its span.
    fn_token: Ident,
    /// Everything between `fn` and the body: name, generics, parameters,
    /// return type and `where` clause, copied through unread.
    signature: Vec<TokenTree>,
    /// The `{ ... }` body, which becomes an `async move` block.
    body: Group,
    /// The declared return type (`()` when there is no `->`), to annotate
    /// the body's value with; `None` when it cannot be written in a `let`
    /// (`impl Trait`) or the signature did not look as expected.
    output: Option<TokenStream>,
}

impl AsyncFn {
    /// Splits `item`, or says why it is not something `flavor` can run.
    pub(crate) fn parse(flavor: Flavor, item: TokenStream) -> Result<AsyncFn, Error> {
        let mut tokens: Vec<TokenTree> = item.into_iter().collect();

        // Attributes and visibility are a `#` followed by a `[...]` group and
        // `pub(...)`: their insides are nested groups, so the first `fn` at
        // the top level is the keyword.
        let Some(fn_index) = tokens.iter().position(|token| is_ident(token, "fn")) else {
            return Err(Error::new(
                Span::call_site(),
                format!("#[{}] goes on an `async fn`", flavor.name()),
            ));
        };
        let body = match tokens.pop() {
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => group,
            // A `;` where the body should be: a declaration in a trait or an
            // `extern` block, which has nothing to run.
            other => {
                let span = other.map_or_else(Span::call_site, |token| token.span());
                return Err(Error::new(
                    span,
                    format!("#[{}] needs a function with a body", flavor.name()),
                ));
            }
        };
        let signature = tokens.split_off(fn_index + 1);
        let Some(TokenTree::Ident(fn_token)) = tokens.pop() else {
            unreachable!("`fn_index` points at an identifier");
        };
        let mut head = tokens;
        let Some(async_index) = head.iter().position(|token| is_ident(token, "async")) else {
            return Err(Error::new(
                fn_token.span(),
                format!(
                    "the `async` keyword is missing from the function declaration: \
                     #[{}] runs an `async fn`",
                    flavor.name()
                ),
            ));
        };
        head.remove(async_index);

        let output = return_type(&signature);
        let function = AsyncFn {
            head,
            fn_token,
            signature,
            body,
            output,
        };
        if flavor == Flavor::Main {
            function.check_main_signature()?;
        }
        Ok(function)
    }

    /// `main` has a fixed shape: no generic parameters, no parameters. The
    /// compiler would say so too, but about the rewritten function, in
    /// words that would not mention the attribute.
    fn check_main_signature(&self) -> Result<(), Error> {
        let mut rest = self.signature.iter();
        match rest.next() {
            Some(TokenTree::Ident(_)) => {}
            other => {
                let span = other.map_or_else(|| self.fn_token.span(), |token| token.span());
                return Err(Error::new(span, "expected the function's name after `fn`"));
            }
        }
        match rest.next() {
            Some(TokenTree::Group(params)) if params.delimiter() == Delimiter::Parenthesis => {
                if params.stream().is_empty() {
                    Ok(())
                } else {
                    Err(Error::new(
                        params.span(),
                        "#[eddy::main] takes a `main` with no parameters: \
                         read command-line arguments with `std::env::args()`",
                    ))
                }
            }
            Some(token) if is_punct(token, '<') => Err(Error::new(
                token.span(),
                "#[eddy::main] takes a `main` with no generic parameters",
            )),
            other => {
                let span = other.map_or_else(|| self.fn_token.span(), |token| token.span());
                Err(Error::new(span, "expected `(` after the function's name"))
            }
        }
    }

    /// The function, no longer `async`, whose body runs the old body on a
    /// new runtime; with `#[test]` in front for [`Flavor::Test`].
    ///
    /// ```text
    /// #[test]            <- Flavor::Test only
    /// HEAD fn SIGNATURE {
    ///     ::eddy::Runtime::new()
    ///         .expect("...")
    ///         .block_on(async move { let output: RET = BODY; .. output })
    /// }
    /// ```
    pub(crate) fn into_blocking(self, flavor: Flavor, eddy: &str) -> TokenStream {
        let mut output = TokenStream::new();
        if flavor == Flavor::Test {
            // The absolute path: a user's own `test` attribute in scope
            // cannot take its place.
            output.extend(parse("#[::core::prelude::v1::test]"));
        }
        output.extend(self.head);
        output.extend([TokenTree::Ident(self.fn_token)]);
        output.extend(self.signature);

        let body_span = self.body.span();
        let future = body_future(self.body, self.output);
        let mut new_body = parse(&format!(
            "{eddy}::Runtime::new().expect(\"#[{}]: could not create the eddy runtime\").block_on",
            flavor.name()
        ));
        new_body.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, future))]);
        let mut new_body = Group::new(Delimiter::Brace, new_body);
        // Type errors about the body's value (a wrong return type, say)
        // point at the user's body, not at the attribute.
        new_body.set_span(body_span);
        output.extend([TokenTree::Group(new_body)]);
        output
    }
}

/// The future `block_on` runs:
///
/// ```text
/// async move {
///     #[allow(clippy::diverging_sub_expression)]
///     let output: RET = BODY;
///     #[allow(unreachable_code)]
///     let output = output;
///     output
/// }
/// ```
///
/// or `async move BODY` when there is no type to write.
///
/// The annotation makes the compiler check the body against the declared
/// type from the start. Without it the `async` block's output type is learnt
/// only from `block_on`'s result, so a body of the wrong type (`"x"` in a
/// `-> u32` function) is reported at the attribute instead of at the value.
///
/// The second `let` is there for bodies that never finish (a server's
/// accept loop, a `#[should_panic]` test): the code after such a body is
/// unreachable, and the compiler says so once, at the first statement after
/// it. That statement carries the `allow`, so the user sees no warning about
/// code they did not write, while their own body keeps its lints (an
/// `allow` around the body would silence those too). An `async` closure
/// with a declared return type would avoid the dance, but its type errors
/// read "no two async blocks have the same type".
fn body_future(body: Group, output: Option<TokenStream>) -> TokenStream {
    let span = body.span();
    let mut future: TokenStream = [
        TokenTree::Ident(Ident::new("async", span)),
        TokenTree::Ident(Ident::new("move", span)),
    ]
    .into_iter()
    .collect();
    let Some(output) = output else {
        future.extend([TokenTree::Group(body)]);
        return future;
    };
    // Hygienic: the user's body cannot see or shadow this name.
    let binding = TokenTree::Ident(Ident::new("output", Span::mixed_site()));
    // clippy flags a `let` whose value diverges; a never-ending body is
    // the point here (the cost: clippy's lint is off inside the body too).
    let mut block = parse("#[allow(clippy::diverging_sub_expression)] let");
    block.extend([binding.clone()]);
    block.extend(parse(":"));
    block.extend(output);
    block.extend(parse("="));
    block.extend([TokenTree::Group(body)]);
    block.extend(parse("; #[allow(unreachable_code)] let"));
    block.extend([
        binding.clone(),
        parse_one("="),
        binding.clone(),
        parse_one(";"),
    ]);
    block.extend([binding]);
    let mut block = Group::new(Delimiter::Brace, block);
    block.set_span(span);
    future.extend([TokenTree::Group(block)]);
    future
}

/// The tokens of the return type in `signature` (what follows `fn`), or
/// `()` when there is no `->`. `None` for a signature we cannot read with
/// confidence and for `impl Trait`, which a `let` cannot name.
///
/// The `->` looked for is the first one after the parameter list: one
/// inside the generics (`<F: Fn() -> u8>`) is skipped by counting angle
/// brackets, which are plain `<` and `>` punctuation, not groups.
fn return_type(signature: &[TokenTree]) -> Option<TokenStream> {
    let mut tokens = signature.iter().peekable();
    tokens.next()?; // the name
    if tokens.peek().is_some_and(|token| is_punct(token, '<')) {
        let mut depth = 0usize;
        let mut after_dash = false;
        for token in tokens.by_ref() {
            // `>` right after a joint `-` is an arrow, not a closing bracket.
            let closes = is_punct(token, '>') && !after_dash;
            after_dash = matches!(token, TokenTree::Punct(p) if p.as_char() == '-'
                && p.spacing() == proc_macro::Spacing::Joint);
            if is_punct(token, '<') {
                depth += 1;
            } else if closes {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    break;
                }
            }
        }
    }
    match tokens.next() {
        Some(TokenTree::Group(params)) if params.delimiter() == Delimiter::Parenthesis => {}
        _ => return None,
    }
    let has_arrow = tokens.peek().is_some_and(|token| is_punct(token, '-'));
    if !has_arrow {
        return Some(parse("()"));
    }
    tokens.next(); // `-`
    if !tokens.next().is_some_and(|token| is_punct(token, '>')) {
        return None;
    }
    let output: TokenStream = tokens
        .take_while(|token| !is_ident(token, "where"))
        .cloned()
        .collect();
    let first = output.clone().into_iter().next()?;
    // `impl Trait` cannot annotate a `let`, and `!` can only on nightly:
    // both take the unannotated path.
    if is_ident(&first, "impl") || is_punct(&first, '!') {
        return None;
    }
    Some(output)
}

/// Whether `token` is the identifier (or keyword) `name`.
fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(ident) if ident.to_string() == name)
}

/// Whether `token` is the punctuation character `ch`.
fn is_punct(token: &TokenTree, ch: char) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == ch)
}

/// Tokens from fixed source text we wrote, which always parses.
fn parse(source: &str) -> TokenStream {
    source
        .parse()
        .expect("the macro's own generated code is valid Rust tokens")
}

/// The one token of `source`, fixed text we wrote.
fn parse_one(source: &str) -> TokenTree {
    parse(source)
        .into_iter()
        .next()
        .expect("the macro's own generated code is one token")
}
