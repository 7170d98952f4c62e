// A multi-file module worker; `make -C examples/router` style bundling with
// esbuild produces dist/worker.js, a single file the runner takes unchanged.
import { routes } from "./routes.js";

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    if (!route) return new Response("not found\n", { status: 404 });
    ctx.waitUntil(Promise.resolve().then(() => console.log(request.method, pathname)));
    return route(request, env);
  },
  async scheduled(event, env, ctx) {
    console.log("cron", event.cron, new Date(event.scheduledTime).toISOString());
  },
};
