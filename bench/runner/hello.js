// Benchmark worker: the same source runs on the Sworn runner and on workerd.
export default {
  async fetch(request) {
    return new Response("Hello World!\n", { headers: { "content-type": "text/plain" } });
  },
};
