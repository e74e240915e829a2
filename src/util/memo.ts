// Work done once per key, shared by every caller that asks for the same key meanwhile.

/** Promises by key: the first `get` of a key starts the work, later ones share its promise. */
export class PromiseMemo<T> {
  private readonly promises = new Map<string, Promise<T>>();

  get(key: string, start: () => Promise<T>): Promise<T> {
    let promise = this.promises.get(key);
    if (!promise) {
      promise = start();
      this.promises.set(key, promise);
    }
    return promise;
  }
}
