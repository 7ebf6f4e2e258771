/**
 * Where the open elements of each kind are on a stack, innermost last: the
 * look-up both of the sanitiser's stacks (./open-elements.ts, ./foreign.ts)
 * use so that "where is the innermost `p`", "is a table open" and the like
 * are answered without a search. An element's positions are added when it
 * is pushed and removed when it is popped, once each.
 */
export class Positions {
  readonly #at = new Map<string, number[]>();

  /** Records an element pushed at `at` under each of `keys`. */
  add(keys: readonly string[], at: number): void {
    for (const key of keys) {
      const list = this.#at.get(key);
      if (list) list.push(at);
      else this.#at.set(key, [at]);
    }
  }

  /** Forgets the innermost element under each of `keys` (the element popped, which had those keys). */
  remove(keys: readonly string[]): void {
    for (const key of keys) this.#at.get(key)!.pop();
  }

  /** How many open elements are under `key`. */
  count(key: string): number {
    return this.#at.get(key)?.length ?? 0;
  }

  /** The innermost position under `key`, or -1. */
  last(key: string): number {
    return this.#at.get(key)?.at(-1) ?? -1;
  }
}
