/**
 * German word lists for the sentence splitter: abbreviations that never end a sentence, ones that may,
 * weekday and month names, and the words before a number that make it an ordinal ("am 3.", "der 2.").
 * Entries are lower case, without the period. Any single letter with a period ("z.", "B.", "M.") is
 * treated as an abbreviation by the splitter itself, and so is any word ending in "str." (Hauptstr.).
 *
 * @module
 */

const words = (s: string): ReadonlySet<string> => new Set(s.trim().split(/\s+/));

/** Abbreviations after which a period does not end a sentence, whatever follows. */
export const ABBREVIATIONS: ReadonlySet<string> = words(`
  dr prof hr hrn frl dipl ing med mag jun sen st bzw ca vgl evtl ggf inkl exkl zzgl bspw bzgl sog ggü
  allg zz zt nr str tel abs abt geb gest verh urspr ehem jh jhd kap bd lt gem od hl mwst ust kfz pkw dt
  engl franz ital span lat bhf hbf pl stv vors dgl rd insb sr mio mrd tsd
  jan feb febr mär apr jul aug sep sept okt nov dez
`);

/** Abbreviations that may end a sentence: a period after them ends one when a capitalized word follows. */
export const MAYBE_FINAL: ReadonlySet<string> = words(`
  usw etc usf ff std min sek max mind co gmbh ag kg ev chr
`);

/**
 * Weekday abbreviations (and "Fr." for Frau/Freitag): abbreviations unless a capitalized word that is
 * not a weekday follows ("So. Das wäre ..." ends a sentence, "Mo. bis Fr." and "Fr. Müller" do not).
 */
export const WEEKDAYS: ReadonlySet<string> = words("mo di mi do fr sa so");

/** Month names and their abbreviations: a number and period before them is an ordinal (a date). */
export const MONTHS: ReadonlySet<string> = words(`
  januar jänner februar märz april mai juni juli august september oktober november dezember
  jan feb febr mär apr jun jul aug sep sept okt nov dez
`);

/** Words before a number that make "N." an ordinal ("am 3. Mai", "der 2. Stock", "zum 1. Mal"). */
export const ORDINAL_CUES: ReadonlySet<string> = words(`
  am vom zum zur bis ab seit im beim ins ans an nach vor für der die das dem den des ein eine einem
  einen einer jeden jede jedes jedem ihr ihre ihrem ihren sein seine seinem seinen mein meine meinem
  meinen unser unsere unserem unseren dein deine euer eure diesem dieser diesen dieses diese nächsten
  letzten kommenden spätestens frühestens und oder bzw sonntag montag dienstag mittwoch donnerstag
  freitag samstag sonnabend
`);
