/**
 * Phone numbers at the media edge: what a transport says (caller ID, a transfer target) written as E.164,
 * German national numbers being the normal case. The one place the gateway does this (the session's person
 * match, Twilio's `<Dial>`); the pipeline's phone_de.ts also reads spoken numbers.
 *
 * @module
 */

/**
 * The caller ID in E.164 for the match with people's numbers: E.164 as it is, `00…` and German national
 * `0…` digits (as an Asterisk line gives them, like the Twilio transfer's targets) converted; anything else
 * (withheld, short extensions) is no number.
 */
export function callerE164(from: string | undefined): string | undefined {
  let n = (from ?? "").replace(/[\s\-/().]/g, "");
  if (n.startsWith("00")) n = "+" + n.slice(2);
  else if (/^0[1-9]/.test(n)) n = "+49" + n.slice(1);
  return /^\+[1-9]\d{6,14}$/.test(n) ? n : undefined;
}
