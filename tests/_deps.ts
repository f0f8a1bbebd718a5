/**
 * Test-only npm dependencies, named with full `npm:` specifiers here instead of in deno.json's import map,
 * so that the import map holds exactly what the application imports and `deno compile` never embeds them.
 *
 * @module
 */
export { type Browser, chromium, type Page } from "npm:playwright-core@1.65.1";
export { default as axe } from "npm:axe-core@4.14.1";
