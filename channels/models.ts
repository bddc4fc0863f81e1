// The channels' own collections. Written with the driver rather than mongoose models: the
// once-store makes its own TTL index (or prunes by hand where TTL indexes are missing), and
// the outbox is read by whatever delivers outside Taqib.

/**
 * Messages queued for channels delivered outside Taqib (WhatsApp): one document per message,
 * `{ _id, channel, to, text, lang, status: "queued", createdAt }`.
 */
export const OUTBOX_COLLECTION = "channelOutbox";

/**
 * The keys channels have seen once (`ChannelContext.once`, contract.ts): `{ _id: sha256(key), expiresAt }`,
 * removed when they expire.
 */
export const ONCE_COLLECTION = "channelOnce";
