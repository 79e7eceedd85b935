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
    /// The `{ ... }` body, which becomes the body of the inner
    /// `async fn __eddy_body`, or of an `async move` block when `output` is
    /// `None` (see `body_future`).
    body: Group,
    /// The declared return type (`()` when there is no `->`), for the inner
    /// `async fn` the body moves into; `None` when the signature did not
    /// look as expected, or when it or the body names `Self`.
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
        let body = match tokens.pop().map(without_invisible_group) {
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
        // Checked before `async`: a `const fn` cannot be made to work by
        // adding `async`, as the next message would suggest. Passed on, the
        // `const` made the rewritten function a `const fn` calling
        // `Runtime::new`, `expect`, the body and `block_on`: four E0015
        // errors about code the user never wrote.
        if let Some(constness) = head.iter().find(|token| is_ident(token, "const")) {
            return Err(Error::new(
                constness.span(),
                format!(
                    "#[{}] cannot go on a `const fn`: the function runs a runtime, \
                     which is not possible at compile time; remove `const`",
                    flavor.name()
                ),
            ));
        }
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
        if flavor == Flavor::Test {
            if let Some(attribute) = head.windows(2).find_map(test_attribute) {
                return Err(Error::new(
                    attribute,
                    "a second test attribute: #[eddy::test] adds `#[test]` itself, \
                     and with this one the test would run twice",
                ));
            }
        }

        // An inner function cannot name the `Self` of an `impl` the
        // function is in (an associated function): such a body runs in an
        // `async move` block instead, where `Self` is in scope.
        let names_self = mentions_self(signature.iter().cloned()) || mentions_self(body.stream());
        let output = if names_self {
            None
        } else {
            return_type(&signature)
        };
        let function = AsyncFn {
            head,
            fn_token,
            signature,
            body,
            output,
        };
        function.check_signature(flavor)?;
        Ok(function)
    }

    /// `main` and a test have a fixed shape: no generic parameters, no
    /// parameters. The compiler would say so too, but about the rewritten
    /// function, in words that would not mention the attribute, and
    /// followed by errors about the inner `async fn` the body moved into,
    /// which cannot see the outer function's parameters (E0434) nor its
    /// generics (E0401, with a suggestion to put `<T>` after the attribute).
    fn check_signature(&self, flavor: Flavor) -> Result<(), Error> {
        let what = match flavor {
            Flavor::Main => "a `main`",
            Flavor::Test => "a test function",
        };
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
                    let hint = match flavor {
                        Flavor::Main => ": read command-line arguments with `std::env::args()`",
                        Flavor::Test => "",
                    };
                    Err(Error::new(
                        params.span(),
                        format!("#[{}] takes {what} with no parameters{hint}", flavor.name()),
                    ))
                }
            }
            Some(token) if is_punct(token, '<') => Err(Error::new(
                token.span(),
                format!(
                    "#[{}] takes {what} with no generic parameters",
                    flavor.name()
                ),
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
    ///     #[allow(clippy::future_not_send)]
    ///     async fn __eddy_body() -> RET BODY
    ///     ::eddy::Runtime::new()
    ///         .expect("...")
    ///         .block_on(__eddy_body())
    /// }
    /// ```
    pub(crate) fn into_blocking(self, flavor: Flavor, eddy: TokenStream) -> TokenStream {
        let mut output = TokenStream::new();
        if flavor == Flavor::Test {
            // The absolute path: a user's own `test` attribute in scope
            // cannot take its place.
            output.extend(parse("#[::core::prelude::v1::test]"));
        }
        let in_unsafe_fn = self.head.iter().any(|token| is_ident(token, "unsafe"));
        output.extend(self.head);
        output.extend([TokenTree::Ident(self.fn_token)]);
        output.extend(self.signature);

        let body_span = self.body.span();
        let (mut new_body, future) = body_future(self.body, self.output, in_unsafe_fn);
        new_body.extend(eddy);
        new_body.extend(parse(&format!(
            "::Runtime::new().expect(\"#[{}]: could not create the eddy runtime\").block_on",
            flavor.name()
        )));
        new_body.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, future))]);
        let mut new_body = Group::new(Delimiter::Brace, new_body);
        // Type errors about the body's value (a wrong return type, say)
        // point at the user's body, not at the attribute.
        new_body.set_span(body_span);
        output.extend([TokenTree::Group(new_body)]);
        output
    }
}

/// The future `block_on` runs, and the item it needs: the body becomes an
/// inner `async fn` with the declared return type,
///
/// ```text
/// #[allow(clippy::future_not_send)]  (item)
/// async fn __eddy_body() -> RET BODY
/// __eddy_body()                      (future)
/// ```
///
/// or, when there is no type to write or the function names `Self` (which
/// an inner function cannot), `async move BODY` and no item.
///
/// For an `async unsafe fn` the item is `async unsafe fn __eddy_body()`
/// and the future `unsafe { __eddy_body() }`: the body of an `unsafe fn`
/// may do unsafe things without a block where the crate's lints allow it
/// (in editions before 2024 always), and it still may once it moved into
/// the inner function, which does not inherit the outer one's unsafety.
///
/// A function's declared return type is what the compiler checks the body
/// against from the start, as in a synchronous function: the body's value,
/// each `return` (so a `return Err(Box::new(e))` coerces to a declared
/// `Box<dyn Error>`) and each `?` (which knows the error type to convert
/// into). An `async` block has no declared output: its first `return`
/// decides it, and one of another type than RET fails to compile. A `let`
/// annotation on the block's value fixes the tail but not the `return`s,
/// and cannot name `impl Trait` at all; an `async` closure with a declared
/// return type has type errors that read "no two async blocks have the same
/// type". The inner function needs no captures: `main` and tests take no
/// parameters.
fn body_future(
    body: Group,
    output: Option<TokenStream>,
    in_unsafe_fn: bool,
) -> (TokenStream, TokenStream) {
    let span = body.span();
    let Some(output) = output else {
        let future = [
            TokenTree::Ident(Ident::new("async", span)),
            TokenTree::Ident(Ident::new("move", span)),
            TokenTree::Group(body),
        ];
        return (TokenStream::new(), future.into_iter().collect());
    };
    // Items are not hygienic: the user's body sees this name, but an item
    // of its own by that name, in its own block, only shadows it there.
    let name = TokenTree::Ident(Ident::new("__eddy_body", Span::mixed_site()));
    // eddy runs futures that are not `Send`; a user crate that turns on
    // `clippy::future_not_send` (for its own async fns that may run on a
    // multi-threaded runtime) should not hear about this one, named
    // `__eddy_body`, which block_on never sends.
    let mut item = parse("#[allow(clippy::future_not_send)] async");
    if in_unsafe_fn {
        // The inner function is `unsafe` exactly when the user's is: its
        // body keeps the unsafe context it was written in (finding 43).
        item.extend(parse("unsafe"));
    }
    item.extend([
        TokenTree::Ident(Ident::new("fn", Span::call_site())),
        name.clone(),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new())),
    ]);
    item.extend(parse("->"));
    item.extend(output);
    item.extend([TokenTree::Group(body)]);
    let call: TokenStream = [
        name,
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new())),
    ]
    .into_iter()
    .collect();
    if !in_unsafe_fn {
        return (item, call);
    }
    // SAFETY (of the generated block): it only calls the inner function
    // from inside the user's own `unsafe fn`, whose caller took on that
    // function's contract; the block adds no obligation of its own.
    let mut future = parse("unsafe");
    future.extend([TokenTree::Group(Group::new(Delimiter::Brace, call))]);
    (item, future)
}

/// The tokens of the return type in `signature` (what follows `fn`), or
/// `()` when there is no `->`. `None` for a signature we cannot read with
/// confidence.
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
    if output.is_empty() {
        return None;
    }
    Some(output)
}

/// The span of the `[...]` if `pair` is `#` `[...]` with a `test` inside:
/// `#[test]`, or the standard one by its full path (`#[core::prelude::v1::test]`,
/// `std`, any edition's prelude, with or without the leading `::`).
pub(crate) fn test_attribute(pair: &[TokenTree]) -> Option<Span> {
    let [pound, TokenTree::Group(brackets)] = pair else {
        return None;
    };
    if !is_punct(pound, '#') || brackets.delimiter() != Delimiter::Bracket {
        return None;
    }
    let mut path = Vec::new();
    for token in brackets.stream() {
        match token {
            TokenTree::Ident(ident) => path.push(ident.to_string()),
            TokenTree::Punct(punct) if punct.as_char() == ':' => {}
            _ => return None,
        }
    }
    let is_test = match &path[..] {
        [test] => test == "test",
        [root, prelude, _edition, test] => {
            (root == "core" || root == "std") && prelude == "prelude" && test == "test"
        }
        _ => false,
    };
    is_test.then(|| brackets.span())
}

/// `token`, or the one token inside it if it is an invisible group. A
/// `macro_rules!` fragment other than `ident`, `lifetime` and `tt` (a
/// `$body:block`, a `$output:ty`) reaches an attribute wrapped in a group
/// with no delimiters, which keeps it one unit the way parentheses would;
/// the body must be seen through it. (Elsewhere the group is copied
/// through whole, which is what the compiler expects of it.)
fn without_invisible_group(token: TokenTree) -> TokenTree {
    if let TokenTree::Group(group) = &token {
        if group.delimiter() == Delimiter::None {
            let mut inside = group.stream().into_iter();
            if let (Some(only), None) = (inside.next(), inside.next()) {
                return without_invisible_group(only);
            }
        }
    }
    token
}

/// Whether `tokens` name `Self` anywhere, inside groups too.
fn mentions_self(tokens: impl IntoIterator<Item = TokenTree>) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident.to_string() == "Self",
        TokenTree::Group(group) => mentions_self(group.stream()),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
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
