/**
 * Practice fixtures for the facts and prompt tests and the prompt bench: a small Berlin practice and a
 * realistic full one (5 weekdays with 2 intervals, 10 closures, 8 team members, 10 services, 15 FAQ,
 * 5 "must not" notes).
 *
 * @module
 */
import type { Practice } from "../../store/mod.ts";

const none = { kind: "none" as const, target: "" };

/** Mon, Tue, Thu, Fri 08-12 and 14-18, Wed 08-13; Christmas, Easter and a summer break closed. */
export function berlinPractice(patch: Partial<Practice> = {}): Practice {
  const day = [{ from: "08:00", to: "12:00" }, { from: "14:00", to: "18:00" }];
  return {
    name: "Hausarztpraxis Dr. Weber",
    assistantName: "Anna",
    address: "Lindenstraße 5, 10969 Berlin",
    phone: "030 1234567",
    timeZone: "Europe/Berlin",
    hours: {
      mon: day,
      tue: day,
      wed: [{ from: "08:00", to: "13:00" }],
      thu: day,
      fri: day,
      sat: [],
      sun: [],
    },
    closures: [
      { from: "2026-04-03", to: "2026-04-03", note: "Karfreitag" },
      { from: "2026-04-06", to: "2026-04-06", note: "Ostermontag" },
      { from: "2026-08-10", to: "2026-08-14", note: "Betriebsferien" },
      { from: "2026-12-24", to: "2026-12-27", note: "Weihnachten" },
    ],
    team: [{ name: "Dr. Petra Weber", role: "Ärztin" }],
    services: ["Hausbesuche"],
    faq: [],
    mustNot: [],
    transfer: { duringHours: none, afterHours: none },
    ...patch,
  };
}

/** A realistic full practice, as large as a busy clinic fills the form. */
export function fullPractice(): Practice {
  const day = [{ from: "07:30", to: "12:30" }, { from: "14:30", to: "18:00" }];
  return {
    ...berlinPractice(),
    name: "Gemeinschaftspraxis Dr. Weber und Dr. Yılmaz",
    hours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: [], sun: [] },
    closures: [
      ["2026-01-01", "2026-01-01", "Neujahr"],
      ["2026-04-03", "2026-04-03", "Karfreitag"],
      ["2026-04-06", "2026-04-06", "Ostermontag"],
      ["2026-05-01", "2026-05-01", "Tag der Arbeit"],
      ["2026-05-14", "2026-05-15", "Christi Himmelfahrt und Brückentag"],
      ["2026-05-25", "2026-05-25", "Pfingstmontag"],
      ["2026-08-03", "2026-08-21", "Sommerurlaub, Vertretung Praxis Dr. Lang"],
      ["2026-10-03", "2026-10-03", "Tag der Deutschen Einheit"],
      ["2026-12-24", "2026-12-27", "Weihnachten"],
      ["2026-12-31", "2027-01-01", "Silvester und Neujahr"],
    ].map(([from, to, note]) => ({ from, to, note })),
    team: [
      ["Dr. Petra Weber", "Fachärztin für Allgemeinmedizin"],
      ["Dr. Murat Yılmaz", "Facharzt für Innere Medizin"],
      ["Dr. Jana König", "Weiterbildungsassistentin"],
      ["Sabine Hoffmann", "Praxismanagerin"],
      ["Lena Schulz", "Medizinische Fachangestellte"],
      ["Tobias Braun", "Medizinischer Fachangestellter"],
      ["Aylin Demir", "Medizinische Fachangestellte, Labor"],
      ["Karin Vogel", "Verwaltung und Abrechnung"],
    ].map(([name, role]) => ({ name, role })),
    services: [
      "Hausärztliche Versorgung",
      "Gesundheits-Check-up ab 35",
      "Impfungen und Reiseimpfberatung",
      "Langzeit-EKG und Belastungs-EKG",
      "Ultraschall des Bauchraums und der Schilddrüse",
      "Blutentnahme und Labor",
      "Disease-Management-Programme für Diabetes und COPD",
      "Hausbesuche für Patienten, die nicht in die Praxis kommen können",
      "Krebsvorsorge",
      "Videosprechstunde",
    ],
    faq: [
      [
        "Brauche ich einen Termin?",
        "Ja, bitte vereinbaren Sie einen Termin; Akutsprechstunde täglich von 8 bis 9 Uhr ohne Termin.",
      ],
      [
        "Wie bekomme ich ein Folgerezept?",
        "Folgerezepte bestellen Sie telefonisch oder online; abholbereit nach zwei Werktagen.",
      ],
      [
        "Kann ich eine Überweisung bekommen?",
        "Ja, Überweisungen für bekannte Patienten liegen nach einem Werktag zur Abholung bereit.",
      ],
      [
        "Wo kann ich parken?",
        "Im Hof hinter dem Haus gibt es vier Parkplätze für Patienten, einer ist barrierefrei.",
      ],
      [
        "Ist die Praxis barrierefrei?",
        "Ja, die Praxis liegt im Erdgeschoss und hat einen stufenlosen Eingang.",
      ],
      [
        "Wann sind Laborergebnisse da?",
        "Meist nach zwei bis drei Werktagen; die Ärztin bespricht sie mit Ihnen.",
      ],
      [
        "Machen Sie Hausbesuche?",
        "Ja, für Patienten, die nicht in die Praxis kommen können, nach Absprache mit der Ärztin.",
      ],
      ["Welche Versicherungen nehmen Sie?", "Alle gesetzlichen und privaten Krankenversicherungen."],
      [
        "Was muss ich zum ersten Termin mitbringen?",
        "Ihre Versichertenkarte, Vorbefunde und eine Liste Ihrer Medikamente.",
      ],
      [
        "Kann ich mich krankschreiben lassen?",
        "Eine Arbeitsunfähigkeitsbescheinigung stellt die Ärztin nach einem Gespräch aus.",
      ],
      [
        "Bieten Sie Grippeimpfungen an?",
        "Ja, von Oktober bis Dezember ohne Termin in der Impfsprechstunde donnerstags.",
      ],
      [
        "Wie lange muss ich nüchtern sein?",
        "Für die Blutentnahme bitte zwölf Stunden nüchtern, Wasser ist erlaubt.",
      ],
      [
        "Wer vertritt die Praxis im Urlaub?",
        "Die Praxis Dr. Lang in der Bergmannstraße 12, Telefon 030 7654321.",
      ],
      ["Gibt es eine Videosprechstunde?", "Ja, für bekannte Patienten nach Terminvereinbarung."],
      [
        "Was tue ich nachts oder am Wochenende?",
        "Den ärztlichen Bereitschaftsdienst unter 116 117, im Notfall die 112.",
      ],
    ].map(([question, answer]) => ({ question, answer })),
    mustNot: [
      "keine Termine fest zusagen, nur Terminwünsche notieren",
      "keine Laborwerte oder Befunde am Telefon nennen",
      "keine Medikamente empfehlen oder Dosierungen nennen",
      "keine Auskunft über andere Patienten geben",
      "keine Preise für Privatleistungen nennen",
    ],
  };
}
