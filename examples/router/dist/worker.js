// src/routes.js
var routes = {
  "/": () => new Response("router example: try /json, /stream, /time, /echo\n"),
  "/json": (req, env) => Response.json({ config: env.config, ua: req.headers.get("user-agent") }),
  "/time": () => new Response((/* @__PURE__ */ new Date()).toISOString() + "\n"),
  "/echo": async (req) => new Response(await req.text(), { headers: { "content-type": req.headers.get("content-type") ?? "text/plain" } }),
  "/stream": () => {
    const enc = new TextEncoder();
    let i = 0;
    return new Response(new ReadableStream({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 100));
        if (i === 5) return controller.close();
        controller.enqueue(enc.encode(`tick ${i++}
`));
      }
    }), { headers: { "content-type": "text/plain" } });
  }
};

// src/index.js
var index_default = {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    if (!route) return new Response("not found\n", { status: 404 });
    ctx.waitUntil(Promise.resolve().then(() => console.log(request.method, pathname)));
    return route(request, env);
  },
  async scheduled(event, env, ctx) {
    console.log("cron", event.cron, new Date(event.scheduledTime).toISOString());
  }
};
export {
  index_default as default
};
