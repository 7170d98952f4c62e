  // ---------------------------------------------------------- events
  const EV = Symbol("event");
  class Event {
    constructor(type, init = {}) {
      if (arguments.length === 0) throw new TypeError("Event: type is required");
      SLOT(this, EV, { stop: false, stopNow: false, dispatching: false });
      this.type = String(type);
      this.bubbles = !!init.bubbles;
      this.cancelable = !!init.cancelable;
      this.composed = !!init.composed;
      this.defaultPrevented = false;
      this.isTrusted = false;
      this.timeStamp = host.now();
      this.target = null;
      this.currentTarget = null;
      this.eventPhase = 0;
    }
    get srcElement() { return this.target; }
    get returnValue() { return !this.defaultPrevented; }
    get cancelBubble() { return this[EV].stop; }
    set cancelBubble(v) { if (v) this[EV].stop = true; }
    preventDefault() { if (this.cancelable) this.defaultPrevented = true; }
    stopPropagation() { this[EV].stop = true; }
    stopImmediatePropagation() { this[EV].stop = true; this[EV].stopNow = true; }
    composedPath() { return this[EV].dispatching && this.currentTarget ? [this.currentTarget] : []; }
  }
  Event.NONE = 0; Event.CAPTURING_PHASE = 1; Event.AT_TARGET = 2; Event.BUBBLING_PHASE = 3;
  tag(Event, "Event");
  class CustomEvent extends Event {
    constructor(type, init = {}) { super(type, init); this.detail = init.detail ?? null; }
  }
  tag(CustomEvent, "CustomEvent");
  class ErrorEvent extends Event {
    constructor(type, init = {}) { super(type, init); this.message = init.message ?? ""; this.error = init.error; }
  }
  const LISTENERS = Symbol("listeners");
  class EventTarget {
    constructor() { SLOT(this, LISTENERS, new Map()); }
    addEventListener(type, callback, options) {
      if (callback == null) return;
      if (typeof callback !== "function" && typeof callback !== "object") throw new TypeError("listener must be a function or an object");
      const opts = typeof options === "boolean" ? { capture: options } : options || {};
      const capture = !!opts.capture;
      const signal = opts.signal;
      if (signal && signal.aborted) return;
      type = String(type);
      const map = this[LISTENERS];
      const list = map.get(type) || [];
      if (list.some((l) => l.callback === callback && l.capture === capture)) return;
      const entry = { callback, capture, once: !!opts.once, removed: false };
      list.push(entry);
      map.set(type, list);
      if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, callback, { capture }));
    }
    removeEventListener(type, callback, options) {
      const capture = typeof options === "boolean" ? options : !!(options && options.capture);
      const list = this[LISTENERS].get(String(type));
      if (!list) return;
      const i = list.findIndex((l) => l.callback === callback && l.capture === capture);
      if (i >= 0) { list[i].removed = true; list.splice(i, 1); }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError("dispatchEvent: argument is not an Event");
      if (event[EV].dispatching) throw new DOMException("The event is already being dispatched", "InvalidStateError");
      event[EV].dispatching = true;
      event.target = this;
      event.currentTarget = this;
      event.eventPhase = 2;
      const list = (this[LISTENERS].get(event.type) || []).slice();
      for (const l of list) {
        if (l.removed) continue;
        if (l.once) this.removeEventListener(event.type, l.callback, { capture: l.capture });
        try {
          if (typeof l.callback === "function") l.callback.call(this, event);
          else if (typeof l.callback.handleEvent === "function") l.callback.handleEvent(event);
        } catch (e) {
          report(e);
        }
        if (event[EV].stopNow) break;
      }
      const handler = this["on" + event.type];
      if (typeof handler === "function" && !event[EV].stopNow && Object.getPrototypeOf(this) !== EventTarget.prototype) {
        try { handler.call(this, event); } catch (e) { report(e); }
      }
      event[EV].dispatching = false;
      event.currentTarget = null;
      event.eventPhase = 0;
      return !event.defaultPrevented;
    }
  }
  tag(EventTarget, "EventTarget");
  define("Event", Event);
  define("CustomEvent", CustomEvent);
  define("ErrorEvent", ErrorEvent);
  define("EventTarget", EventTarget);

