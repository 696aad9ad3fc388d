/** A listener of one event. */
export type Listener<T> = (event: T) => void;

/**
 * A minimal typed event emitter. A listener that throws does not stop the others nor the client:
 * its error is rethrown asynchronously so it still surfaces in the console or the test runner.
 */
export class Emitter<Events extends object> {
  private listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    (this.listeners[event] ||= []).push(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (e) => {
      off();
      listener(e);
    });
    return off;
  }

  /** Removes a listener, or every listener of the event when none is given. */
  off<K extends keyof Events>(event: K, listener?: Listener<Events[K]>): void {
    const list = this.listeners[event];
    if (!list) return;
    this.listeners[event] = listener ? list.filter((l) => l !== listener) : [];
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of (this.listeners[event] || []).slice()) {
      try {
        listener(payload);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}
