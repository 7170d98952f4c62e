//! The JavaScript engine: one QuickJS runtime per worker per thread, driven by
//! that thread's event loop. No JS value ever crosses a thread.

pub mod bindings;
pub(crate) mod compression;
mod error;
mod events;
pub mod host;
pub mod instance;
mod opaque;
pub mod pool;
mod prelude;
mod subtle;

pub use error::{ScriptError, StartError};
pub use instance::{Instance, RequestError, WorkerBody, WorkerResponse};
pub use pool::{Pool, PoolConfig};
