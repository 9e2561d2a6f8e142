// Light or dark colours: the person's choice in Instellingen, or else the computer's. Kept in
// the webview's local storage: a display preference, nothing of the dossier.
export type ThemeChoice = "system" | "light" | "dark";

const KEY = "cjg-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function stored(): ThemeChoice {
  const v = window.localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

export const theme = $state<{ choice: ThemeChoice }>({ choice: stored() });

export function applyTheme(): void {
  const dark = theme.choice === "dark" || (theme.choice === "system" && media.matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

export function setTheme(choice: ThemeChoice): void {
  theme.choice = choice;
  window.localStorage.setItem(KEY, choice);
  applyTheme();
}

media.addEventListener("change", applyTheme);
