//! The attribute's arguments: `crate = "path"`, checked as a path and
//! turned into the tokens the generated code starts its paths with, and a
//! hint for the arguments of tokio's attributes, which eddy has no use for.

use proc_macro::{Ident, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::error::Error;
use crate::flavor::Flavor;

/// The path to the eddy crate: `::eddy`, or what `crate = "path"` names
/// (for a crate that renamed the dependency, as tokio's attributes allow).
/// Any other argument is an error, rather than silently ignored. One
/// trailing comma may follow the argument, as at the end of any Rust list.
pub(crate) fn crate_path(flavor: Flavor, args: TokenStream) -> Result<TokenStream, Error> {
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
