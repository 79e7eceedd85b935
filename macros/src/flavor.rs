//! [`Flavor`]: `main` or `test`.

/// Which attribute is expanding: they differ in whether `#[test]` is added,
/// in the checks of the test's attributes, and in their messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `#[eddy::main]`.
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
