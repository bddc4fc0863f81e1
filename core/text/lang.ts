/** The two languages Taqib speaks: what a citizen chose, and every text in both. */
export type Lang = "ar" | "en";
