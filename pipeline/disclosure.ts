/**
 * The AI disclosure every greeting makes (EU AI Act Art. 50): the caller talks to an AI assistant of the
 * practice, by name, and their requests are noted for the team. Greetings are templates with
 * `{assistant}` and `{practice}`, filled in at call time from the practice ("TOM" and "Praxis" when no
 * practice is configured); {@linkcode disclosesAi} checks a template (the variant schema and the tests).
 *
 * @module
 */
import type { Practice } from "../store/mod.ts";
import { practiceName } from "./practice_facts.ts";

/** The assistant's name when the practice gives none. */
export const DEFAULT_ASSISTANT = "TOM";

/** The names a greeting template is filled with. */
export interface GreetingNames {
  assistant: string;
  practice: string;
}

/** The names for a practice (or the neutral ones without a practice). */
export function greetingNames(practice?: Pick<Practice, "name" | "assistantName">): GreetingNames {
  return { assistant: practice?.assistantName.trim() || DEFAULT_ASSISTANT, practice: practiceName(practice) };
}

/** Fill `{assistant}` and `{practice}` in a greeting or policy template. */
export function fillNames(template: string, names: GreetingNames = greetingNames()): string {
  return template.replaceAll("{assistant}", names.assistant).replaceAll("{practice}", names.practice);
}

/**
 * True when the greeting discloses the AI: it names the assistant (the `{assistant}` placeholder, or
 * `names.assistant` in a filled text) and the practice, says "KI" (or "künstliche Intelligenz"), and says
 * that requests are noted ("notiere", "notiert") for the team.
 */
export function disclosesAi(
  greeting: string,
  names: GreetingNames = { assistant: "{assistant}", practice: "{practice}" },
): boolean {
  return greeting.includes(names.assistant) && greeting.includes(names.practice) &&
    /(^|[^\p{L}])KI([^\p{L}]|$)|künstliche[n]? Intelligenz/u.test(greeting) &&
    /notier/i.test(greeting) && /team/i.test(greeting);
}
