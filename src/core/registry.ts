import type { CommandSpec } from "./command.ts";
import { closest } from "./suggest.ts";

/** Command specs by name and alias. Registration is idempotent per spec and refuses clashes. */
export class Registry<S> {
  readonly #byName = new Map<string, CommandSpec<S>>();
  readonly #specs: CommandSpec<S>[] = [];

  constructor(specs: readonly CommandSpec<S>[] = []) {
    for (const s of specs) this.add(s);
  }

  add(spec: CommandSpec<S>): this {
    if (this.#specs.includes(spec)) return this;
    for (const key of [spec.name, ...(spec.aliases ?? [])]) {
      const k = key.toLowerCase();
      const other = this.#byName.get(k);
      if (other) throw new Error(`command name '${k}' is claimed by both '${other.name}' and '${spec.name}'`);
      if (!/^[a-z][a-z0-9-]*$/.test(k)) throw new Error(`command name '${k}' must be lower-case letters, digits, '-'`);
    }
    for (const key of [spec.name, ...(spec.aliases ?? [])]) this.#byName.set(key.toLowerCase(), spec);
    this.#specs.push(spec);
    return this;
  }

  get(nameOrAlias: string): CommandSpec<S> | undefined {
    return this.#byName.get(nameOrAlias.toLowerCase());
  }

  all(): readonly CommandSpec<S>[] {
    return this.#specs;
  }

  /** Names (not aliases) close to a mistyped word. */
  suggest(word: string): string[] {
    const hits = closest(word, [...this.#byName.keys()]);
    return [...new Set(hits.map((h) => (this.#byName.get(h) as CommandSpec<S>).name))];
  }
}
