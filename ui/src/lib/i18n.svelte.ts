// Dutch first (B1: short sentences, plain words), English second.
export type Lang = "nl" | "en";

const nl = {
  app_name: "Mijn CJG",
  skip_to_content: "Naar de inhoud",
  language_switch: "English",
  language_switch_label: "Switch to English",
  welcome_title: "Welkom bij Mijn CJG",
  welcome_intro: "Hier leest u wat uw coach van het CJG over uw gezin schrijft. Uw gegevens staan beveiligd op dit apparaat.",
  welcome_step: "Stap 1 van 2",
  server_label: "Adres van de server",
  server_hint: "Dit adres krijgt u van uw coach.",
  code_label: "Activatiecode",
  code_hint: "12 tekens, bijvoorbeeld ABCD-EFGH-JKMN. U krijgt de code van uw coach.",
  next: "Verder",
  back: "Terug",
  pin_title: "Kies een pincode",
  pin_step: "Stap 2 van 2",
  pin_intro: "Met deze pincode opent u de app. Kies 6 tot 12 cijfers. Kies geen makkelijke code, zoals 123456.",
  pin_label: "Pincode",
  pin_again_label: "Pincode nog een keer",
  pin_submit: "Klaar",
  enrolling: "Even geduld. We maken de app klaar…",
  unlock_title: "Vul uw pincode in",
  unlock_intro: "Uw gegevens zijn beveiligd. Met uw pincode maakt u ze open.",
  unlock_submit: "Openen",
  unlocking: "Bezig met openen…",
  nav_dossier: "Dossier",
  refresh: "Vernieuwen",
  lock: "Vergrendelen",
  syncing: "Nieuwe gegevens ophalen…",
  sync_progress: (items: number) => `${items} onderdelen opgehaald…`,
  sync_done: "Alles is bijgewerkt.",
  sync_failed_offline: "Er is nu geen verbinding met de server.",
  sync_failed_keep: "U ziet de gegevens die al op dit apparaat stonden.",
  dossier_title: "Dossier",
  dossier_intro: "Dit schreef uw coach over uw gezin.",
  greeting: (name: string) => `Hallo ${name}`,
  filter_kind: "Soort",
  filter_person: "Over wie",
  all_kinds: "Alles",
  everyone: "Iedereen",
  family: "Het hele gezin",
  kind_gespreksverslag: "Gespreksverslag",
  kind_afspraak: "Afspraak",
  kind_plan: "Plan",
  no_entries: "Er is nog niets om te lezen.",
  no_entries_filtered: "Niets gevonden. Kies een ander filter.",
  count: (n: number) => (n === 1 ? "1 onderdeel" : `${n} onderdelen`),
  about: "Over",
  written_by: "Geschreven door",
  date: "Datum",
  back_to_list: "Terug naar het dossier",
  entry_gone: "Dit onderdeel is er niet meer. Misschien heeft de coach het weggehaald.",
  errors: {
    invalid_server_url: "Dit adres klopt niet. Het begint met http:// of https://.",
    server_unreachable: "Er is geen verbinding met de server. Kijk of het adres klopt en of u internet heeft. Probeer het dan opnieuw.",
    server_invalid_response: "De server gaf een vreemd antwoord. Probeer het later opnieuw.",
    activation_code_format: "Deze code klopt niet. Een code heeft 12 letters en cijfers, zoals ABCD-EFGH-JKMN.",
    activation_code_invalid: "Deze code kennen we niet. Kijk of u de code goed heeft overgetypt.",
    activation_code_expired: "Deze code is verlopen. Vraag uw coach om een nieuwe code.",
    activation_code_used: "Deze code is al gebruikt. Vraag uw coach om een nieuwe code.",
    rate_limited: "U heeft het te vaak geprobeerd. Wacht een minuut. Probeer het dan opnieuw.",
    pin_format: "Een pincode heeft 6 tot 12 cijfers. Gebruik alleen cijfers.",
    pin_too_simple: "Deze pincode is te makkelijk te raden. Kies een andere pincode.",
    pin_mismatch: "De twee pincodes zijn niet hetzelfde. Typ ze nog een keer.",
    wrong_pin: "Deze pincode klopt niet. Probeer het opnieuw.",
    device_revoked: "Dit apparaat is afgemeld. Vraag uw coach om een nieuwe code.",
    unauthenticated: "Aanmelden bij de server lukt niet. Probeer het later opnieuw.",
    store_tampered: "De gegevens op dit apparaat zijn beschadigd. Neem contact op met uw coach.",
    locked: "De app is vergrendeld. Vul uw pincode in.",
    not_enrolled: "De app is nog niet ingesteld.",
    unknown: "Er ging iets mis. Probeer het opnieuw.",
  } as Record<string, string>,
};

type Dict = typeof nl;

const en: Dict = {
  app_name: "My CJG",
  skip_to_content: "Skip to content",
  language_switch: "Nederlands",
  language_switch_label: "Wissel naar Nederlands",
  welcome_title: "Welcome to My CJG",
  welcome_intro: "Here you read what your CJG coach writes about your family. Your data is stored securely on this device.",
  welcome_step: "Step 1 of 2",
  server_label: "Server address",
  server_hint: "Your coach gives you this address.",
  code_label: "Activation code",
  code_hint: "12 characters, for example ABCD-EFGH-JKMN. Your coach gives you the code.",
  next: "Next",
  back: "Back",
  pin_title: "Choose a PIN",
  pin_step: "Step 2 of 2",
  pin_intro: "You open the app with this PIN. Choose 6 to 12 digits. Do not choose an easy one, like 123456.",
  pin_label: "PIN",
  pin_again_label: "PIN again",
  pin_submit: "Done",
  enrolling: "Please wait. We are setting up the app…",
  unlock_title: "Enter your PIN",
  unlock_intro: "Your data is protected. Your PIN opens it.",
  unlock_submit: "Open",
  unlocking: "Opening…",
  nav_dossier: "Case record",
  refresh: "Refresh",
  lock: "Lock",
  syncing: "Fetching new data…",
  sync_progress: (items: number) => `${items} items fetched…`,
  sync_done: "Everything is up to date.",
  sync_failed_offline: "There is no connection with the server right now.",
  sync_failed_keep: "You see the data that was already on this device.",
  dossier_title: "Case record",
  dossier_intro: "This is what your coach wrote about your family.",
  greeting: (name: string) => `Hello ${name}`,
  filter_kind: "Kind",
  filter_person: "About",
  all_kinds: "All",
  everyone: "Everyone",
  family: "The whole family",
  kind_gespreksverslag: "Conversation report",
  kind_afspraak: "Agreement",
  kind_plan: "Plan",
  no_entries: "There is nothing to read yet.",
  no_entries_filtered: "Nothing found. Choose another filter.",
  count: (n: number) => (n === 1 ? "1 item" : `${n} items`),
  about: "About",
  written_by: "Written by",
  date: "Date",
  back_to_list: "Back to the case record",
  entry_gone: "This item is gone. Your coach may have removed it.",
  errors: {
    invalid_server_url: "This address is not right. It starts with http:// or https://.",
    server_unreachable: "There is no connection with the server. Check the address and your internet. Then try again.",
    server_invalid_response: "The server gave a strange answer. Try again later.",
    activation_code_format: "This code is not right. A code has 12 letters and digits, like ABCD-EFGH-JKMN.",
    activation_code_invalid: "We do not know this code. Check that you typed it correctly.",
    activation_code_expired: "This code has expired. Ask your coach for a new code.",
    activation_code_used: "This code was already used. Ask your coach for a new code.",
    rate_limited: "You tried too often. Wait a minute. Then try again.",
    pin_format: "A PIN has 6 to 12 digits. Use digits only.",
    pin_too_simple: "This PIN is too easy to guess. Choose another PIN.",
    pin_mismatch: "The two PINs are not the same. Type them again.",
    wrong_pin: "This PIN is not right. Try again.",
    device_revoked: "This device was signed off. Ask your coach for a new code.",
    unauthenticated: "Signing in to the server does not work. Try again later.",
    store_tampered: "The data on this device is damaged. Contact your coach.",
    locked: "The app is locked. Enter your PIN.",
    not_enrolled: "The app has not been set up yet.",
    unknown: "Something went wrong. Try again.",
  },
};

export const i18n = $state<{ lang: Lang }>({ lang: "nl" });

export function t(): Dict {
  return i18n.lang === "nl" ? nl : en;
}

export function toggleLang(): void {
  i18n.lang = i18n.lang === "nl" ? "en" : "nl";
  document.documentElement.lang = i18n.lang;
}

export function errorText(e: unknown): string {
  const code = typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : "unknown";
  const errors = t().errors;
  return errors[code] ?? errors["unknown"] ?? "";
}

export function formatDate(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  return date.toLocaleDateString(i18n.lang === "nl" ? "nl-NL" : "en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}
