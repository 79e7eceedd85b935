//! [`HubSlot`]: where a runtime keeps its signal [`Hub`] while anyone
//! listens.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Weak};

use eddy_io_driver::Handle;

use super::hub::Hub;

/// The runtime's hub, if it has listeners. A weak reference: the last
/// listener's drop closes the runtime's copy of the pipe, and the next
/// listener makes a new one.
#[derive(Debug, Default)]
pub(crate) struct HubSlot {
    /// The hub the listeners share; dead when none is left.
    hub: RefCell<Weak<Hub>>,
}

impl HubSlot {
    /// The runtime's hub, made and registered with `handle`'s driver if no
    /// listener holds one.
    ///
    /// Fails like [`Hub::new`].
    pub(super) fn get_or_make(&self, handle: &Handle) -> io::Result<Arc<Hub>> {
        if let Some(hub) = self.hub.borrow().upgrade() {
            return Ok(hub);
        }
        let hub = Arc::new(Hub::new(handle)?);
        *self.hub.borrow_mut() = Arc::downgrade(&hub);
        Ok(hub)
    }
}
