//! Per-worker `env` bindings. The enclave services (`env.nsm`, Escrin's
//! `env.tpm`/`env.iam`: [`crate::services`]) implement [`EnvBinding`] and are
//! handed to the pool; each is installed into every new instance's `env` object
//! after `env.config` and before the worker's handlers can run.

use std::sync::Arc;

use rquickjs::{Ctx, Object};

use crate::registry::Worker;

/// Something a worker finds on `env` (and, for service-worker scripts, as a
/// global of the same name, as Cloudflare does).
pub trait EnvBinding: Send + Sync + 'static {
    /// Property name on `env`.
    fn name(&self) -> &str;
    /// Builds the value for one instance of `worker`.
    fn install<'js>(&self, ctx: &Ctx<'js>, env: &Object<'js>, worker: &Arc<Worker>) -> rquickjs::Result<()>;
}

/// The bindings every worker gets.
pub type Bindings = Arc<Vec<Arc<dyn EnvBinding>>>;
