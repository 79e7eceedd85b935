//! [`Error`]: what a macro rejects, reported where the user wrote it.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// A rejection: the message for the user and the token it is about.
#[derive(Debug)]
pub(crate) struct Error {
    /// Where the compiler underlines the error: the offending token, so the
    /// user sees `fn` underlined for a missing `async`, not the attribute.
    span: Span,
    /// What is wrong and what to do instead, in one sentence.
    message: String,
}

impl Error {
    /// An error about the token at `span`.
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Error {
        Error {
            span,
            message: message.into(),
        }
    }

    /// `::core::compile_error!("message");` with every token at our span:
    /// the compiler reports a macro's error where its tokens come from.
    pub(crate) fn into_compile_error(self) -> TokenStream {
        let span = self.span;
        let punct = |ch, spacing| {
            let mut punct = Punct::new(ch, spacing);
            punct.set_span(span);
            TokenTree::Punct(punct)
        };
        let mut message = Literal::string(&self.message);
        message.set_span(span);
        let mut arguments = Group::new(
            Delimiter::Parenthesis,
            TokenStream::from(TokenTree::Literal(message)),
        );
        arguments.set_span(span);
        [
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("core", span)),
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("compile_error", span)),
            punct('!', Spacing::Alone),
            TokenTree::Group(arguments),
            punct(';', Spacing::Alone),
        ]
        .into_iter()
        .collect()
    }
}
