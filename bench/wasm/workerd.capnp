# workerd configuration for bench/wasm (run.sh copies it next to the built
# modules): one worker with the two modules.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .wasm) ],
  sockets = [ (name = "http", address = "127.0.0.1:18091", http = (), service = "main") ]
);

const wasm :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "kernel.wasm", wasm = embed "kernel.wasm"),
    (name = "kernel-1mb.wasm", wasm = embed "kernel-1mb.wasm"),
  ],
  compatibilityDate = "2024-09-23",
);
