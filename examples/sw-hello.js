// Service-worker format: bindings such as `config` are globals.
addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  event.respondWith(new Response(`Hello from a service worker at ${url.pathname}\n`));
});
