/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The page shell: skip link, header with navigation, flash message, main landmark, scripts.
import type { ComponentChildren, VNode } from "preact";
import { fill, T } from "./texts_de.ts";
import type { AuthState } from "./types.ts";
import { isApplianceAdmin } from "./auth/levels.ts";

const NAV: { href: string; label: string; admin?: boolean; appliance?: boolean }[] = [
  { href: "/", label: T.nav.dashboard },
  { href: "/people", label: T.nav.people },
  { href: "/calls", label: T.nav.calls },
  { href: "/requests", label: T.nav.requests },
  { href: "/live", label: T.nav.live },
  { href: "/schedules", label: T.nav.schedules },
  { href: "/practice", label: T.nav.practice },
  { href: "/test-call", label: T.nav.testCall },
  { href: "/settings", label: T.nav.settings, admin: true },
  { href: "/users", label: T.nav.users, admin: true },
  { href: "/learning", label: T.nav.learning, admin: true },
  { href: "/audit", label: T.nav.audit, admin: true },
  { href: "/system", label: T.nav.system, admin: true, appliance: true },
];

/** Whether `href` is the current page's section (for aria-current). */
export function current(path: string, href: string): boolean {
  return href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
}

/** Props of {@linkcode Layout}. */
export interface LayoutProps {
  title: string;
  path: string;
  auth: AuthState | undefined;
  csrf: string;
  flash?: string;
  /** The navigation's "Anliegen" entry as rendered HTML (with its open count), when signed in. */
  requestsNav?: string;
  /** The profile, when TOM runs the synthetic demo models: every page then shows the banner. */
  demoModels?: string;
  cssUrl: string;
  modules: string[];
  preloads: string[];
  children: ComponentChildren;
}

/** The HTML document around every page. */
export function Layout(p: LayoutProps): VNode {
  const nav = NAV.filter((n) =>
    (!n.admin || p.auth?.user.role === "admin") && (!n.appliance || isApplianceAdmin(p.auth))
  );
  return (
    <html lang="de">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${p.title} – ${T.app.name}`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={p.cssUrl} />
        {p.preloads.map((href) => <link rel="modulepreload" href={href} key={href} />)}
      </head>
      <body>
        <a class="skip" href="#inhalt">{T.app.skip}</a>
        <header class="top">
          <a class="brand" href="/">
            {T.app.name}
            <small>{T.app.tagline}</small>
          </a>
          {p.auth && (
            <nav class="main" aria-label={T.app.mainNav}>
              <ul>
                {nav.map((n) =>
                  n.href === "/requests" && p.requestsNav !== undefined
                    ? <li key={n.href} dangerouslySetInnerHTML={{ __html: p.requestsNav }} />
                    : (
                      <li key={n.href}>
                        <a href={n.href} aria-current={current(p.path, n.href) ? "page" : undefined}>
                          {n.label}
                        </a>
                      </li>
                    )
                )}
              </ul>
            </nav>
          )}
          {p.auth && (
            <div class="who">
              <span>
                {T.app.account}: {p.auth.account.name} ({T.kinds[p.auth.account.kind]})
              </span>
              <form method="post" action="/logout">
                <input type="hidden" name="_csrf" value={p.csrf} />
                <button type="submit">{T.app.logout}</button>
              </form>
            </div>
          )}
        </header>
        <main id="inhalt" tabindex={-1}>
          {p.demoModels !== undefined && (
            <p class="msg warn demo-models" role="status">
              <strong>{T.demoModels.banner}</strong> {T.demoModels.howTo}{" "}
              {fill(T.demoModels.steps, { profile: p.demoModels })}
            </p>
          )}
          {p.flash && <p class="msg ok" role="status">{p.flash}</p>}
          {p.children}
        </main>
        {p.modules.map((src) => <script type="module" src={src} key={src}></script>)}
      </body>
    </html>
  );
}
