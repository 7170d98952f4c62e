// Route table of the router example.
export const routes = {
  "/": () => new Response("router example: try /json, /stream, /time, /echo\n"),
  "/json": (req, env) => Response.json({ config: env.config, ua: req.headers.get("user-agent") }),
  "/time": () => new Response(new Date().toISOString() + "\n"),
  "/echo": async (req) => new Response(await req.text(), { headers: { "content-type": req.headers.get("content-type") ?? "text/plain" } }),
  "/stream": () => {
    const enc = new TextEncoder();
    let i = 0;
    return new Response(new ReadableStream({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 100));
        if (i === 5) return controller.close();
        controller.enqueue(enc.encode(`tick ${i++}\n`));
      },
    }), { headers: { "content-type": "text/plain" } });
  },
};
