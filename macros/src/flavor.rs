//! [`Flavor`]: `main` or `test`.

/// Which attribute is expanding: they differ in the checks they make and
/// in whether `#[test]` is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `#[eddy::main]`: no parameters, no generics.
    Main,
    /// `#[eddy::test]`: gains `#[test]`.
    Test,
}

impl Flavor {
    /// The attribute as users write it, for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::Main => "eddy::main",
            Flavor::Test => "eddy::test",
        }
    }
}
