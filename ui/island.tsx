/** @jsxImportSource preact */
/** @jsxRuntime automatic */
/**
 * Server side of the island layer. ui/ never imports islands/: the caller hands over the registry of
 * island components (routes/_islands.ts), and {@linkcode islandRenderer} returns the `<Island name="X"
 * props={...} />` component for it, which renders the island's HTML inside a marker element carrying its
 * JSON props and records that the page needs the island's script.
 *
 * @module
 */
import type { FunctionComponent, VNode } from "preact";

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

/**
 * Island components by name; the name is the file's name in islands/ (the bundle hydrates it by that name).
 */
// deno-lint-ignore no-explicit-any -- each island has its own props; the registry keeps them per name
export type IslandRegistry = Readonly<Record<string, FunctionComponent<any>>>;

/** Props of the island `N` of registry `R`. */
export type IslandProps<R extends IslandRegistry, N extends keyof R> = Parameters<R[N]>[0];

/**
 * The `<Island>` component for a registry of islands.
 *
 * @param registry the island components by name (routes/_islands.ts)
 * @returns a component that renders an island: server HTML now, hydrated in the browser by its bundle
 */
export function islandRenderer<R extends IslandRegistry>(
  registry: R,
): <N extends keyof R & string>(p: { name: N; props: IslandProps<R, N> }) => VNode {
  return function Island<N extends keyof R & string>(p: { name: N; props: IslandProps<R, N> }): VNode {
    collecting?.add(p.name);
    const C = registry[p.name];
    return (
      <div data-island={p.name} data-props={JSON.stringify(p.props)} class="island">
        <C {...p.props} />
      </div>
    );
  };
}
