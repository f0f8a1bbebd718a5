/**
 * German word patterns for the red-flag matcher (red_flags.ts). Every pattern is a regular expression source
 * over the matcher's normalized text: lower case, umlauts as "ae"/"oe"/"ue", "ß" as "ss", hyphens and
 * apostrophes joined ("Herzinfarkt-Vorsorge" -> "herzinfarktvorsorge"), other punctuation a `|` token, one
 * space between tokens. A pattern matches whole tokens; `[a-z0-9]+` never crosses a `|`, so no pattern spans
 * two clauses. Compounds a transcriber may split are written with an optional space ("brust ?schmerz").
 *
 * `negatable` patterns are nouns and adjectives that a preceding "kein"/"nicht"/"ohne" denies ("keine
 * Atemnot", "nicht bewusstlos"); `fixed` patterns are verb phrases that carry their own negation ("keine
 * Luft", "reagiert nicht mehr") and are never denied by the word before them.
 *
 * @module
 */

/** One word and its space. */
const W = "(?:[a-z0-9]+ )";
/** A count word before a time unit ("vor zwei Jahren", "vor 3 Wochen"). */
const NUM = "(?:[0-9]+|ein|eine|einem|einer|zwei|drei|vier|fuenf|sechs|sieben|acht|neun|zehn|elf|zwoelf|" +
  "fuenfzehn|zwanzig|dreissig|ein paar|paar|einigen|mehreren|vielen)";
/** A small child, the subject of {@linkcode RED_FLAG_TERMS}' child_not_breathing. */
const CHILD = "(?:baby|babys|kind|kleinkind|saeugling|neugeborene[sn]?|kleine[rs]?|enkelkind)";
/** Body parts whose cramp is no seizure ("mein Bein krampft"). */
const LIMB = "(?:bein|beine|wade|waden|fuss|fuesse|zeh|zehen|hand|haende|finger|muskel|muskeln|magen|bauch|" +
  "nacken|ruecken|oberschenkel|arm)";
const SELF = "(?:mich|mir|sich|uns|dich|dir)";

/** The patterns of one red flag; `vetoAny` on the whole text, `vetoAfter` on the text after a match, drop it. */
export interface FlagTerms {
  negatable: readonly string[];
  fixed: readonly string[];
  vetoAny?: string;
  vetoAfter?: string;
}

/** The German red-flag list, by flag. */
export const RED_FLAG_TERMS = {
  child_not_breathing: {
    negatable: [],
    fixed: [
      `${CHILD} (?:${W}){0,4}?(?:atmet (?:${W})?(?:nicht|kaum)|(?:bekommt|kriegt|hat) (?:${W})?(?:keine|kaum) luft|` +
      `keine luft|ist (?:${W})?(?:blau|lila)|(?:blau|lila) (?:angelaufen|geworden)|laeuft (?:${W})?blau an|` +
      `blaue lippen)`,
      `(?:atmet (?:nicht|kaum)|blau angelaufen|keine luft)(?: [a-z0-9]+){0,3}? (?:mein|meine|unser|unsere|das|der|die) ${CHILD}`,
      `atmet (?:${W}){1,2}${CHILD} (?:${W})?(?:nicht|kaum)`,
    ],
  },
  unconscious: {
    negatable: [
      "bewus+tlos[a-z]*",
      "ohnmaechtig",
      "ohnmacht",
      "herz ?stillstand",
      "kollabiert",
      "zusammengebrochen",
      "umgekippt",
    ],
    fixed: [
      "nicht (?:mehr )?ansprechbar",
      "nicht (?:mehr )?bei bewusstsein",
      "ohne bewusstsein",
      "reagiert (?:gar |ueberhaupt )?(?:nicht mehr|auf nichts)",
      `wacht (?:${W})?nicht (?:mehr )?auf`,
      `(?:krieg|kriege|kriegen|bekomme|bekommen) (?:${W}){1,2}nicht (?:mehr )?wach`,
      "reanimation|reanimier[a-z]*|wiederbeleb[a-z]*",
    ],
  },
  breathing: {
    negatable: ["atem ?not", "luft ?not", "atem ?stillstand", "atembeschwerden", "erstick[a-z]*"],
    fixed: [
      "(?:keine|kaum|wenig|schlecht|schwer) luft",
      "nicht (?:genug|genuegend|richtig) luft",
      `(?:ringt|ringe|ringen|schnappt|schnappe|schnappen|japst|japse|japsen) (?:${W})?nach luft`,
      "nach luft (?:ringen|ringt|schnappen|schnappt|japsen|japst)",
      `(?:kann|koennen|kannst) (?:${W})?(?:nicht|kaum|schlecht|schwer) (?:mehr |richtig |noch )?atmen`,
      `atmet (?:${W})?(?:nicht|kaum) (?:mehr|richtig)`,
      "atmet nicht|atmet kaum|atmet schwer",
      "blau angelaufen|blaue lippen",
    ],
    vetoAfter: `^ (?:${W}){0,2}durch die nase`,
  },
  chest_pain: {
    negatable: [
      "brust ?schmerz[a-z]*",
      "herz ?infarkt(?:e|es|s)?",
      "infarkt",
      "herz ?anfall",
      `(?:schmerz[a-z]*|druck|engegefuehl|enge|stechen|stiche|ziehen|brennen)(?: [a-z0-9]+){0,3} (?:in|an|auf|im|am) ` +
      "(?:der |die |meiner |seiner |ihrer )?(?:brust|brustkorb|herz|herzen)",
    ],
    fixed: [
      `drueckt (?:${W}){0,2}(?:auf|in|an) (?:der|die|meiner|seiner|ihrer) brust`,
      `brust (?:${W}){0,2}(?:tut|tat|tun|drueckt|sticht|schmerzt|brennt)`,
      `(?:schmerzt|sticht|drueckt) (?:${W})?(?:die|meine|seine|ihre) brust`,
      `(?:strahlt|ausstrahl[a-z]*) (?:${W}){0,2}in den (?:linken )?arm`,
    ],
    vetoAny: "(?:^| )(?:still[a-z]*|milchstau|mastitis|brustentzuendung|brustwarze[n]?)(?= )",
  },
  stroke: {
    negatable: [
      "schlag ?anfall|schlaganfalls",
      "hirn ?schlag|hirn ?infarkt|hirn ?blutung|apoplex",
      "(?:gesichts|halbseiten|arm|bein)?laehmung[a-z]*",
      "(?:halbseitig |ploetzlich )?gelaehmt",
      "verwaschen[a-z]*",
    ],
    fixed: [
      `mundwinkel (?:${W}){0,2}(?:haengt|haengen|hing|hingen|schief|herunter|runter)`,
      `haengende[nrms]? mundwinkel|(?:haengt|haengen|hing|hingen) (?:${W}){0,2}(?:mundwinkel|gesicht|gesichtshaelfte)`,
      `(?:gesicht|gesichtshaelfte) (?:${W}){0,2}(?:haengt|hing|schief|verzogen)`,
      `kann (?:${W}){0,2}(?:arm|arme|bein|beine|hand) (?:${W})?nicht (?:mehr )?(?:heben|bewegen|halten)`,
      "lallt|lallen|lallte",
      `spricht (?:${W})?(?:ganz )?(?:undeutlich|verwaschen|wirr)`,
      `ploetzlich (?:${W}){0,3}nicht (?:mehr )?(?:richtig )?(?:sprechen|reden)`,
      "findet (?:die|keine) worte",
    ],
  },
  anaphylaxis: {
    negatable: ["allergische[nrms]? schock", "anaphylak[a-z]*", "anaphylaxie"],
    fixed: [
      `(?:zunge|lippe|lippen) (?:${W}){0,2}(?:schwillt|schwellen|angeschwollen|geschwollen|zugeschwollen)`,
      `(?:schwillt|schwellen) (?:${W}){0,2}(?:zunge|lippen?)`,
      `(?:hals|rachen|kehle) (?:${W}){0,2}(?:schwillt zu|schwellen zu|zugeschwollen|schnuert sich zu|wird (?:ganz )?eng)`,
      `schwillt (?:${W}){0,2}(?:hals|rachen|kehle) zu|zugeschwollen`,
    ],
  },
  seizure: {
    negatable: ["krampf ?anfall[a-z]*", "fieber ?kraempfe?", "epileptische[nrms]? anfall"],
    fixed: [
      `(?<!${LIMB} (?:[a-z]+ )?)(?:krampft|krampfte|krampften|gekrampft)(?! (?:[a-z]+ )?${LIMB}(?= ))`,
      "zuckt am ganzen koerper|schaum vor dem mund",
    ],
  },
  bleeding: {
    negatable: ["(?:starke|starken|starker|heftige|heftigen|heftiger) blutung(?:en)?"],
    fixed: [
      `blute[tn] (?:${W}){0,2}(?:stark|heftig|wie verrueckt|ohne ende|ununterbrochen)`,
      "stark (?:am )?bluten|stark blutend",
      `(?:blutung|bluten|blutet|nasenbluten) (?:${W}){0,3}?(?:hoert|hoeren|will|wollen) (?:${W})?nicht (?:mehr )?auf`,
      `(?:hoert|hoeren) (?:${W})?nicht (?:mehr )?auf zu bluten`,
      "(?:viel|sehr viel|eine menge) blut verloren|ueberall blut",
      `(?:spuckt|spucke|erbricht|erbreche|hustet|huste|kotzt) (?:${W})?blut|blut (?:gespuckt|erbrochen|gehustet)`,
    ],
  },
  poisoning: {
    negatable: ["vergiftet", "vergiftung", "ueberdosis", "ueberdosiert"],
    fixed: [
      `gift (?:${W}){0,2}(?:geschluckt|getrunken|gegessen|genommen)`,
      `[a-z]*(?:putzmittel|reiniger|reinigungsmittel|spuelmittel|waschmittel|chlor|bleiche|lampenoel|` +
      `grillanzuender|frostschutzmittel|benzin|rattengift|entkalker) (?:${W}){0,2}(?:getrunken|geschluckt|gegessen|verschluckt)`,
      `(?:batterie|knopfzelle|knopfbatterie|magnete?) (?:${W})?verschluckt`,
      `zu viele (?:${W})?(?:tabletten|pillen|medikamente|tropfen)`,
      `(?:alle|eine ganze packung|die ganze packung|ganze packung|eine packung|mehrere packungen|eine handvoll) ` +
      `(?:${W})?[a-z]*(?:tabletten|pillen|medikamente) (?:${W}){0,2}(?:geschluckt|genommen|eingenommen)`,
      "(?<!(?:meine|seine|ihre|deine|unsere|die|ihr|mein|sein) )[a-z]*(?:tabletten|pillen) geschluckt",
    ],
  },
  suicidal: {
    negatable: ["selbstmord[a-z]*", "suizid[a-z]*", "lebensmuede"],
    fixed: [
      `${SELF} (?:${W})?das leben (?:zu )?nehmen`,
      `(?:will|moechte|mag|wollte) (?:${W})?nicht mehr leben`,
      `(?:will|moechte|wollte)(?: (?!nicht |kein)[a-z0-9]+){0,2} sterben`,
      `${SELF} (?:${W}){0,2}(?:umbringen|umzubringen)`,
      `bring[a-z]* (?:${W})?(?:mich|sich) um`,
      `${SELF} (?:${W})?(?:was|etwas) an(?:zu)?tun`,
      `(?:mit mir|mit meinem leben|mit dem leben) (?:${W})?(?:schluss|ein ende) machen`,
    ],
  },
  declared_emergency: {
    negatable: [
      "notarzt|krankenwagen|rettungswagen|rettungsdienst",
      "(?<!(?:im|fuer|fuers|bei|einem|den) )notfall",
    ],
    fixed: [`(?:notruf|112) (?:${W}){0,2}(?:waehlen|rufen|anrufen|gewaehlt|gerufen|angerufen)`],
  },
} as const satisfies Record<string, FlagTerms>;

/** Words that deny the red-flag noun right after them ("keine Brustschmerzen"). */
export const NEGATORS: ReadonlySet<string> = new Set(
  "kein keine keinen keinem keiner keines nicht nie niemals ohne".split(" "),
);

/** Words that may stand between a negator and what it denies ("keine starken Schmerzen"). */
export const NEGATION_FILLERS: ReadonlySet<string> = new Set(
  ("mehr richtig richtige richtigen wirklich wirkliche wirklichen so sehr gar ueberhaupt starke starken starker " +
    "akute akuten echte echten grosse grossen solche solchen auch eigentlich irgendwelche irgendwelchen " +
    "ernsthafte ernsthaften schlimme schlimmen besonders zum glueck").split(" "),
);

/** Words that start a new clause for the time of a mention ("Schlaganfall vor zwei Jahren, jetzt ..."). */
export const CLAUSE_BREAKS = "\\||und|aber|jetzt|doch|sondern|nun|inzwischen|mittlerweile";

/** A distant past in the mention's clause: history, not an emergency now ("Schlaganfall vor zwei Jahren"). */
export const DISTANT_PAST =
  `vor (?:ueber |mehr als |etwa |circa |knapp )?${NUM} (?:monat|monaten|jahr|jahren)|vor (?:langer|laengerer) zeit|` +
  "(?:letzte[nms]?|vorige[nms]?|vergangene[nms]?) (?:monat|jahr|jahres)|im (?:letzten|vorigen|vergangenen) (?:monat|jahr)|" +
  `damals|frueher|als kind|seit (?:${NUM} )?(?:jahren|jahr|monaten|monat|langem|laengerem|ewigkeiten)|` +
  `(?:19|20)[0-9]{2}|hatte (?:${W}){0,2}(?:mal|einmal)|zustand nach`;

/** A recent past in the mention's clause: history only when a resolution follows ("letzte Woche ... jetzt gut"). */
export const RECENT_PAST = `vor (?:ueber |mehr als |etwa |knapp )?${NUM} (?:tag|tagen|woche|wochen)|` +
  "(?:letzte[nms]?|vorige[nms]?|vergangene[nms]?) (?:woche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|" +
  "sonntag|wochenende)|neulich|kuerzlich|letztens|nach (?:dem|einem|meinem|seinem|ihrem|der|einer|meiner|seiner|" +
  "ihrer) (?:unfall|sturz|op|operation|schlaganfall|herzinfarkt|infarkt|geburt|impfung)";

const SETTLE =
  "(?:jetzt|inzwischen|mittlerweile|wieder|schon|viel|deutlich|etwas|alles|es|mir|ihm|ihr|uns|zum|" +
  "glueck|ganz|auch|dann|von|selbst|alleine?) ";
/** A resolution after the mention ("jetzt ist alles gut", "ist besser", "geht ihm wieder gut"). */
export const RESOLVED = `(?:ist|sind|war|waren|wurde|geht|ging) (?:${SETTLE})*` +
  "(?:besser|gut|weg|vorbei|verschwunden|abgeklungen|ueberstanden|in ordnung)|alles (?:wieder )?gut|ueberstanden";

/** A present, acute sign anywhere in the text: it keeps a past mention firing ("ploetzlich", "schon wieder"). */
export const ACUTE = "gerade|grad|eben|vorhin|ploetzlich|akut|sofort|schnell|hilfe|notfall|schon wieder|" +
  `wieder da|schlimmer|seit (?:heute|gestern|vorhin|${NUM} (?:minuten|minute|stunden|stunde))`;

/** Care words next to a diagnosis that make it prevention or aftercare ("Schlaganfall Nachsorge"). */
export const CARE_WORDS = "vorsorge|nachsorge|reha|rehabilitation|risiko|prophylaxe|vorbeugung|vorbeugen|" +
  "nachuntersuchung|nachkontrolle|kontrolle|selbsthilfegruppe|kurs|patient|patientin|patienten";
