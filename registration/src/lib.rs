//! placeholder: being written (see issue 2).
