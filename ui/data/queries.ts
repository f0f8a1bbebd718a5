// The people search of the pages: a phone number finds its person, other text searches names (the SQL is in
// store/people.ts).
import type { Person, Store } from "../../store/mod.ts";
import { findPeopleByName, findPersonByPhone, listPeople } from "../../store/mod.ts";

/** The account's people whose name contains `q`, or whose number is `q`; everyone when `q` is empty. */
export function searchPeople(store: Store, accountId: string, q: string, limit = 200): Person[] {
  const query = q.trim();
  if (query === "") return listPeople(store, accountId, { limit });
  const compact = query.replace(/[\s\-\/()]/g, "");
  if (/^\+[1-9][0-9]{6,14}$/.test(compact)) {
    const p = findPersonByPhone(store, accountId, compact);
    return p ? [p] : [];
  }
  return findPeopleByName(store, accountId, query, limit);
}
