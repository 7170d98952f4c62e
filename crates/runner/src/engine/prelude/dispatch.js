  // ---------------------------------------------------------- dispatch
  // The runner's one entry point into JavaScript: `kind` is an EVENT.
  function dispatch(kind, id, a, b, c, d, e) {
    switch (kind) {
      case EVENT.FETCH: return onFetch(id, a, b, c, d);
      case EVENT.SCHEDULED: return onScheduled(id, a, b);
      case EVENT.TIMER: return onTimer(id);
      case EVENT.FETCH_DONE: return onFetchDone(id, a, b, c, d);
      case EVENT.FETCH_FAILED: return onFetchFailed(id, a);
      case EVENT.DRAINED: { const d = ops.get(id); if (d) { ops.delete(id); d.resolve(); } return; }
      case EVENT.FETCH_CHUNK: return onFetchChunk(id, a, b);
    }
  }

