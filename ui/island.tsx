/** @jsxImportSource preact */
/** @jsxRuntime automatic */
/**
 * Server side of the island layer: `<Island name="X" props={...} />` renders the island's HTML inside a
 * marker element carrying its JSON props, and records that the page needs the island's script.
 *
 * @module
 */
import type { VNode } from "preact";
import { type IslandName, type IslandProps, ISLANDS } from "./islands_registry.ts";

let collecting: Set<string> | undefined;

/** Run a synchronous render and return the island names it used. */
export function collectIslands<T>(fn: () => T): { result: T; islands: string[] } {
  const previous = collecting;
  const used = new Set<string>();
  collecting = used;
  try {
    return { result: fn(), islands: [...used] };
  } finally {
    collecting = previous;
  }
}

/** Mark a script entry (e.g. a worklet) as needed without rendering an island. */
export function useEntry(name: string): void {
  collecting?.add(name);
}

/** Render an island: server HTML now, hydrated in the browser by its bundle. */
export function Island<N extends IslandName>(p: { name: N; props: IslandProps<N> }): VNode {
  collecting?.add(p.name);
  // deno-lint-ignore no-explicit-any -- the registry is typed per name; preact wants one component type
  const C = ISLANDS[p.name] as any;
  return (
    <div data-island={p.name} data-props={JSON.stringify(p.props)} class="island">
      <C {...p.props} />
    </div>
  );
}
