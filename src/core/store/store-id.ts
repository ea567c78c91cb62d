/**
 * A new store's id (secrets are filed under it). node:crypto is loaded here, when a store is created, not when one is
 * only read: loading it costs every command 5 ms at start (`npm run bench`).
 */
export const newStoreId = (): string => process.getBuiltinModule('node:crypto').randomBytes(12).toString('hex');
