# workerd configuration for the benchmark: one module worker on loopback.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .hello) ],
  sockets = [ (name = "http", address = "127.0.0.1:18081", http = (), service = "main") ]
);

const hello :Workerd.Worker = (
  modules = [ (name = "hello", esModule = embed "hello.js") ],
  compatibilityDate = "2024-09-23",
);
