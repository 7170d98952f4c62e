// The smallest useful worker: answers every request with a greeting.
export default {
  async fetch(request, env, ctx) {
    return new Response("Hello World!\n", { headers: { "content-type": "text/plain" } });
  },
};
