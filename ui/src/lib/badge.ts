// A badge keeps to three characters: past 99 the exact number says nothing more at a glance,
// and the screen reader label keeps the full count.
export const badgeText = (n: number): string => (n > 99 ? "99+" : String(n));
