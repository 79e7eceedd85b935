//! Reading a panic payload.

use std::any::Any;

/// The message of a panic payload (`panic!("...")` produces a `&str` or a
/// `String`), or an empty string for any other payload type.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        String::new()
    }
}
