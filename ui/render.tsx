/** @jsxImportSource preact */
/** @jsxRuntime automatic */
/**
 * Server-side rendering: the page component is rendered first (collecting the islands it uses), then
 * the layout around it with exactly those islands' scripts.
 *
 * @module
 */
import { renderToString } from "preact-render-to-string";
import type { FunctionComponent, VNode } from "preact";
import { collectIslands } from "./island.tsx";
import { Layout } from "./layout.tsx";
import type { IslandAssets } from "./assets.ts";
import type { AuthState, PageProps } from "./types.ts";

/** What {@linkcode renderDocument} needs. */
export interface DocumentParts {
  title: string;
  path: string;
  auth: AuthState | undefined;
  csrf: string;
  cssUrl: string;
  flash?: string;
  /** The navigation's "Anliegen" entry with its open count (an island or a plain link), when signed in. */
  requestsNav?: () => VNode;
  /** The profile, when the synthetic demo models are active (the banner). */
  demoModels?: string;
  assets: IslandAssets;
  /** A page component and its props ... */
  // deno-lint-ignore no-explicit-any -- page data types vary per route
  page?: { component: FunctionComponent<PageProps<any>>; props: PageProps<unknown> };
  /** ... or ready HTML (error pages). */
  body?: string;
  islands?: string[];
}

/** Render a full HTML document. */
export function renderDocument(p: DocumentParts): string {
  const page = p.page;
  const Page = page?.component;
  const { result: inner, islands } = Page && page
    ? collectIslands(() => renderToString(<Page {...page.props} />))
    : { result: p.body ?? "", islands: p.islands ?? [] };
  const nav = p.requestsNav;
  const requestsNav = nav ? collectIslands(() => renderToString(nav())) : undefined;
  if (requestsNav) {
    for (const name of requestsNav.islands) {
      if (!islands.includes(name)) islands.push(name);
    }
  }
  const { modules, preloads } = p.assets.scripts(islands);
  const html = renderToString(
    <Layout
      title={p.title}
      path={p.path}
      auth={p.auth}
      csrf={p.csrf}
      flash={p.flash}
      requestsNav={requestsNav?.result}
      demoModels={p.demoModels}
      cssUrl={p.cssUrl}
      modules={modules}
      preloads={preloads}
    >
      <div class="page" dangerouslySetInnerHTML={{ __html: inner }} />
    </Layout>,
  );
  return "<!DOCTYPE html>" + html;
}
