// Browser side of the island layer: hydrate every server-rendered instance of one island.
import { type ComponentType, type ContainerNode, h, hydrate } from "preact";
import { browser } from "./browser.ts";

/** Hydrate each `[data-island=name]` element with `Component` and the JSON props beside it. */
// deno-lint-ignore no-explicit-any -- props are whatever the island declares; they arrive as JSON
export function hydrateIslands(name: string, Component: ComponentType<any>): void {
  for (const el of browser.document.querySelectorAll(`[data-island="${name}"]`)) {
    hydrate(h(Component, JSON.parse(el.dataset.props ?? "{}")), el as unknown as ContainerNode);
  }
}
