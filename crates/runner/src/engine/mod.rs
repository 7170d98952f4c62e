//! The JavaScript engine: one QuickJS runtime per worker per thread, driven by
//! that thread's event loop. No JS value ever crosses a thread.

pub mod bindings;
pub mod host;
pub mod instance;
pub mod pool;
mod subtle;

pub use instance::{Instance, RequestError, WorkerBody, WorkerResponse};
pub use pool::{Pool, PoolConfig};
