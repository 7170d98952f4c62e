  // ------------------------------------------------------- event kinds
  // What Rust asks `dispatch` to do, by the names and numbers of
  // engine/events.rs `EventKind`; a test there checks both lists agree.
  const EVENT = Object.freeze({
    FETCH: 1,
    SCHEDULED: 2,
    TIMER: 3,
    FETCH_DONE: 4,
    FETCH_FAILED: 5,
    DRAINED: 6,
    FETCH_CHUNK: 7,
  });
