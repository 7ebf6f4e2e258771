/**
 * The HTML elements the sanitiser has open, innermost last, with where
 * those of each name are and where the tables, cells and captions are: so
 * what a close tag closes, whether it can reach it, and whether a table's
 * rules apply are each a look-up, never a search of the stack. Each element
 * is pushed and popped once.
 */
import type { TablePlace } from "./foreign";

/** Elements that stop a close tag's reach (the standard's "in scope"), of those written. */
const SCOPE_EDGES = new Set(["table", "td", "th", "caption"]);
/** The table and its parts: only a table stops their close tags' reach. */
export const TABLE = new Set(["table", "tbody", "tfoot", "thead", "tr", "td", "th", "caption"]);

export class OpenElements {
  readonly #names: string[] = [];
  readonly #where = new Map<string, number[]>();
  readonly #tables: number[] = [];
  readonly #edges: number[] = [];

  get depth(): number {
    return this.#names.length;
  }

  get innermost(): string | undefined {
    return this.#names.at(-1);
  }

  push(name: string): void {
    const at = this.#names.push(name) - 1;
    const list = this.#where.get(name);
    if (list) list.push(at);
    else this.#where.set(name, [at]);
    if (name === "table") this.#tables.push(at);
    if (SCOPE_EDGES.has(name)) this.#edges.push(at);
  }

  /** Pops every element from position `depth` up, innermost first, handing each to `popped` with its position. */
  popTo(depth: number, popped: (name: string, at: number) => void): void {
    while (this.#names.length > depth) {
      const name = this.#names.pop()!;
      const at = this.#names.length;
      this.#where.get(name)!.pop();
      if (this.#tables.at(-1) === at) this.#tables.pop();
      if (this.#edges.at(-1) === at) this.#edges.pop();
      popped(name, at);
    }
  }

  /** Where the innermost open `name` is, or -1. */
  find(name: string): number {
    return this.#where.get(name)?.at(-1) ?? -1;
  }

  /** Where the innermost open table is, or -1. */
  get table(): number {
    return this.#tables.at(-1) ?? -1;
  }

  /** In a table's cell or caption, elsewhere in a table, or in none (browsers ignore a table's part outside one). */
  place(): TablePlace {
    if (this.#tables.length === 0) return null;
    return this.#names[this.#edges.at(-1)!] === "table" ? "table" : "cell";
  }

  /**
   * Whether the close tag of the open `name` at `at` reaches it from inside
   * what is open: a table, cell or caption in between stops it
   * (`<div><table><svg></div>` leaves the SVG open); a table part's, only
   * a table.
   */
  reaches(name: string, at: number): boolean {
    return at >= 0 && ((TABLE.has(name) ? this.#tables : this.#edges).at(-1) ?? -1) <= at;
  }
}
