// workerd's side of bench/wasm/run.sh: the same WASI command modules the
// runner runs as wasi workers, instantiated per request through workerd's
// `wasm` module type, with the least WASI a CGI-style run needs. A fresh
// instance per request, as the runner does.
import kernel from "./kernel.wasm";
import big from "./kernel-1mb.wasm";

const ENOSYS = 52;
const EBADF = 8;

class Exit {
  constructor(code) { this.code = code; }
}

function run(module, env) {
  let memory;
  const out = [];
  const enc = new TextEncoder();
  const vars = Object.entries(env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
  const args = [enc.encode("bench\0")];
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const strings = (list) => ({
    sizes(countPtr, sizePtr) {
      view().setUint32(countPtr, list.length, true);
      view().setUint32(sizePtr, list.reduce((n, s) => n + s.length, 0), true);
      return 0;
    },
    get(ptrs, buf) {
      for (const s of list) {
        view().setUint32(ptrs, buf, true);
        bytes().set(s, buf);
        ptrs += 4;
        buf += s.length;
      }
      return 0;
    },
  });
  const e = strings(vars);
  const a = strings(args);
  const wasi = {
    args_sizes_get: a.sizes, args_get: a.get,
    environ_sizes_get: e.sizes, environ_get: e.get,
    fd_write(fd, iovs, count, written) {
      let n = 0;
      for (let i = 0; i < count; i++) {
        const ptr = view().getUint32(iovs + 8 * i, true);
        const len = view().getUint32(iovs + 8 * i + 4, true);
        if (fd === 1) out.push(bytes().slice(ptr, ptr + len));
        n += len;
      }
      view().setUint32(written, n, true);
      return 0;
    },
    fd_read(fd, iovs, count, read) { view().setUint32(read, 0, true); return 0; },
    fd_fdstat_get(fd, stat) { if (fd > 2) return EBADF; bytes().fill(0, stat, stat + 24); bytes()[stat] = 2; return 0; },
    fd_close() { return 0; },
    fd_seek() { return 70; },
    fd_prestat_get() { return EBADF; },
    proc_exit(code) { throw new Exit(code); },
  };
  const imports = new Proxy(wasi, { get: (t, name) => t[name] ?? (() => ENOSYS) });
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: imports });
  memory = instance.exports.memory;
  try {
    instance.exports._start();
  } catch (err) {
    if (!(err instanceof Exit)) throw err;
  }
  const stdout = new Blob(out);
  return stdout;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const module = url.pathname.startsWith("/big") ? big : kernel;
    const path = url.pathname.replace(/^\/big/, "");
    const stdout = await run(module, { PATH_INFO: path, QUERY_STRING: url.search.slice(1), REQUEST_METHOD: request.method }).text();
    const split = stdout.indexOf("\n\n");
    return new Response(stdout.slice(split + 2), { headers: { "content-type": "text/plain" } });
  },
};
